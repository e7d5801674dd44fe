import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Clock } from '../common/clock';
import { CurrentPrincipal, RequireScopes } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { RateLimit } from '../common/rate-limit';
import { PluginsService } from '../plugins/plugins.service';
import {
  CreatePluginTokenDto,
  PluginTokenResponse,
  PluginTokenWithSecret,
  RotatePluginTokenDto,
  toPluginTokenResponse,
  UpdatePluginTokenDto,
} from './dto/plugin-token.dto';
import { PluginTokensService } from './plugin-tokens.service';
import { SendsSecret } from '../common/http/sends-secret.decorator';

/** A plugin's deploy tokens: every maintainer manages every token of the plugin. */
@ApiTags('plugin-tokens')
@ApiBearerAuth()
@Controller('plugins/:package/tokens')
export class PluginTokensController {
  constructor(
    private readonly plugins: PluginsService,
    private readonly tokens: PluginTokensService,
    private readonly clock: Clock,
  ) {}

  /** Creates a deploy token; the response is the only time its secret is shown. */
  @Post()
  @RequireScopes('write:plugins')
  @SendsSecret()
  @RateLimit('create')
  @ApiCreatedResponse({ type: PluginTokenWithSecret })
  async create(
    @Param('package') name: string,
    @Body() body: CreatePluginTokenDto,
    @CurrentPrincipal() principal: UserPrincipal,
  ): Promise<PluginTokenWithSecret> {
    const plugin = await this.plugins.getMaintained(name, principal);
    const { token, secret } = await this.tokens.create(plugin, principal, body.description, body.expires_in);
    token.createdBy = { username: principal.username } as never;
    return { ...toPluginTokenResponse(plugin, token, null, this.clock.now()), token: secret };
  }

  @Get()
  @RequireScopes('write:plugins')
  @ApiOkResponse({ type: [PluginTokenResponse] })
  async list(@Param('package') name: string, @CurrentPrincipal() principal: UserPrincipal): Promise<PluginTokenResponse[]> {
    const plugin = await this.plugins.getMaintained(name, principal);
    const now = this.clock.now();
    return (await this.tokens.list(plugin)).map((t) => toPluginTokenResponse(plugin, t, this.tokens.lastUse(t), now));
  }

  @Patch(':id')
  @RequireScopes('write:plugins')
  @ApiOkResponse({ type: PluginTokenResponse })
  async update(
    @Param('package') name: string,
    @Param('id') id: string,
    @Body() body: UpdatePluginTokenDto,
    @CurrentPrincipal() principal: UserPrincipal,
  ): Promise<PluginTokenResponse> {
    const plugin = await this.plugins.getMaintained(name, principal);
    const token = await this.tokens.describe(plugin, id, body.description, principal);
    return toPluginTokenResponse(plugin, token, this.tokens.lastUse(token), this.clock.now());
  }

  @Delete(':id')
  @RequireScopes('write:plugins')
  @HttpCode(204)
  @ApiNoContentResponse()
  async revoke(@Param('package') name: string, @Param('id') id: string, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    const plugin = await this.plugins.getMaintained(name, principal);
    await this.tokens.revoke(plugin, id, principal);
  }

  /** A new secret for the same token; the old one works for `overlap_seconds` more. */
  @Post(':id/rotate')
  @RequireScopes('write:plugins')
  @SendsSecret()
  @RateLimit('create')
  @HttpCode(200)
  @ApiOkResponse({ type: PluginTokenWithSecret })
  async rotate(
    @Param('package') name: string,
    @Param('id') id: string,
    @Body() body: RotatePluginTokenDto,
    @CurrentPrincipal() principal: UserPrincipal,
  ): Promise<PluginTokenWithSecret> {
    const plugin = await this.plugins.getMaintained(name, principal);
    const { token, secret } = await this.tokens.rotate(plugin, id, body.overlap_seconds ?? 0, principal);
    return { ...toPluginTokenResponse(plugin, token, this.tokens.lastUse(token), this.clock.now()), token: secret };
  }
}

/** All deploy tokens of all the plugins the caller maintains. */
@ApiTags('plugin-tokens')
@ApiBearerAuth()
@Controller('plugin-tokens')
export class MyPluginTokensController {
  constructor(
    private readonly tokens: PluginTokensService,
    private readonly clock: Clock,
  ) {}

  @Get()
  @RequireScopes('write:plugins')
  @ApiOkResponse({ type: [PluginTokenResponse] })
  async list(@CurrentPrincipal() principal: UserPrincipal): Promise<PluginTokenResponse[]> {
    const now = this.clock.now();
    return (await this.tokens.listForMaintainer(principal.userId)).map(({ plugin, token }) =>
      toPluginTokenResponse(plugin, token, this.tokens.lastUse(token), now),
    );
  }
}
