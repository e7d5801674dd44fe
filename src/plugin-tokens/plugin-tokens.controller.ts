import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
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
  @ApiOperation({ summary: 'Create a deploy token for the plugin (its secret is shown once)', description: 'For CI: the token may upload versions of this plugin only, and uploads made with it are attributed to "Token {description}". Every maintainer sees and manages it, and it outlives its creator.' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED')
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
  @ApiOperation({ summary: 'List the plugin\'s deploy tokens (never their secrets)' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED')
  async list(@Param('package') name: string, @CurrentPrincipal() principal: UserPrincipal): Promise<PluginTokenResponse[]> {
    const plugin = await this.plugins.getMaintained(name, principal);
    const now = this.clock.now();
    return (await this.tokens.list(plugin)).map((t) => toPluginTokenResponse(plugin, t, this.tokens.lastUse(t), now));
  }

  @Patch(':id')
  @RequireScopes('write:plugins')
  @ApiOkResponse({ type: PluginTokenResponse })
  @ApiOperation({ summary: 'Change a deploy token\'s description' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED', 'PLUGIN_TOKEN_NOT_FOUND')
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
  @ApiOperation({ summary: 'Revoke a deploy token' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED', 'PLUGIN_TOKEN_NOT_FOUND')
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
  @ApiOperation({ summary: 'Rotate a deploy token: a new secret, shown once', description: 'The old secret keeps working for `overlap_seconds` (default 0), so CI can switch without a failed run.' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED', 'PLUGIN_TOKEN_NOT_FOUND', 'CONFLICT')
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
@Controller('plugin-tokens')
export class MyPluginTokensController {
  constructor(
    private readonly tokens: PluginTokensService,
    private readonly clock: Clock,
  ) {}

  @Get()
  @RequireScopes('write:plugins')
  @ApiOkResponse({ type: [PluginTokenResponse] })
  @ApiOperation({ summary: 'Deploy tokens of every plugin I maintain' })
  async list(@CurrentPrincipal() principal: UserPrincipal): Promise<PluginTokenResponse[]> {
    const now = this.clock.now();
    return (await this.tokens.listForMaintainer(principal.userId)).map(({ plugin, token }) =>
      toPluginTokenResponse(plugin, token, this.tokens.lastUse(token), now),
    );
  }
}
