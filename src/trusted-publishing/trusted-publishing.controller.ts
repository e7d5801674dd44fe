import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { Clock } from '../common/clock';
import { CurrentPrincipal, Public, RequireScopes } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/errors/api-errors.decorator';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { SendsSecret } from '../common/http/sends-secret.decorator';
import { RateLimit } from '../common/rate-limit';
import { AppConfig, InjectConfig } from '../config/app.config';
import { toPluginTokenResponse } from '../plugin-tokens/dto/plugin-token.dto';
import { PluginsService } from '../plugins/plugins.service';
import {
  CreateTrustedPublisherDto,
  TokenExchangeDto,
  TokenExchangeResponse,
  toTrustedPublisherResponse,
  TrustedPublisherResponse,
  TrustedPublishingInfo,
} from './dto/trusted-publisher.dto';
import { TrustedPublishingService } from './trusted-publishing.service';

/** A plugin's trusted publishers: the CI workflows that may publish it without a stored secret. */
@ApiTags('trusted-publishing')
@Controller('plugins/:package/trusted-publishers')
export class TrustedPublishersController {
  constructor(
    private readonly plugins: PluginsService,
    private readonly publishing: TrustedPublishingService,
  ) {}

  @Get()
  @RequireScopes('write:plugins')
  @ApiOkResponse({ type: [TrustedPublisherResponse] })
  @ApiOperation({ summary: "List the plugin's trusted publishers" })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED')
  async list(@Param('package') name: string, @CurrentPrincipal() principal: UserPrincipal): Promise<TrustedPublisherResponse[]> {
    const plugin = await this.plugins.getMaintained(name, principal);
    return (await this.publishing.list(plugin)).map((p) => toTrustedPublisherResponse(plugin, p));
  }

  @Post()
  @RequireScopes('write:plugins')
  @RateLimit('create')
  @ApiCreatedResponse({ type: TrustedPublisherResponse })
  @ApiOperation({
    summary: 'Trust a CI workflow to publish the plugin',
    description: 'Its jobs exchange their OIDC ID token at `POST /trusted-publishing/exchange` for a deploy token of this plugin that lives 15 minutes (TRUSTED_PUBLISHING_TOKEN_TTL). No secret is stored in the CI.',
  })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED', 'CONFLICT')
  async add(@Param('package') name: string, @Body() body: CreateTrustedPublisherDto, @CurrentPrincipal() principal: UserPrincipal): Promise<TrustedPublisherResponse> {
    const plugin = await this.plugins.getMaintained(name, principal);
    const publisher = await this.publishing.add(plugin, body, principal);
    publisher.createdBy = { username: principal.username } as never;
    return toTrustedPublisherResponse(plugin, publisher);
  }

  @Delete(':id')
  @RequireScopes('write:plugins')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Stop trusting a publisher; the deploy tokens it got that still work are revoked' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED', 'NOT_FOUND')
  async remove(@Param('package') name: string, @Param('id') id: string, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    const plugin = await this.plugins.getMaintained(name, principal);
    await this.publishing.remove(plugin, id);
  }
}

/** The exchange a CI job calls, and what it needs to know to call it. */
@ApiTags('trusted-publishing')
@Controller('trusted-publishing')
export class TrustedPublishingController {
  constructor(
    private readonly publishing: TrustedPublishingService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Public()
  @RateLimit('public')
  @Get()
  @ApiOkResponse({ type: TrustedPublishingInfo })
  @ApiOperation({ summary: 'Trusted publishing here: the audience to ask the CI for, the token lifetime, the CI issuers accepted' })
  info(): TrustedPublishingInfo {
    const { audience, tokenTtl, issuers } = this.config.trustedPublishing;
    return {
      enabled: issuers.length > 0,
      audience,
      token_ttl: tokenTtl,
      issuers: issuers.map((i) => ({
        name: i.name,
        display_name: i.displayName,
        issuer: i.issuer,
        claims: i.claims,
        claim_names: i.claimNames
          ? { repository: i.claimNames.repository, workflow: i.claimNames.workflow, ref: i.claimNames.ref ?? null, environment: i.claimNames.environment ?? null, repository_id: i.claimNames.repositoryId ?? null }
          : null,
      })),
    };
  }

  @Public()
  @RateLimit('login')
  @Post('exchange')
  @HttpCode(200)
  @SendsSecret()
  @ApiOkResponse({ type: TokenExchangeResponse })
  @ApiOperation({
    summary: "Exchange a CI job's OIDC ID token for a short-lived deploy token (trusted publishing)",
    description:
      'The ID token must come from a configured CI issuer, for the audience `GET /trusted-publishing` names, be within its lifetime and never exchanged before, and its job (repository, workflow, environment, ref) must match one of the plugin\'s trusted publishers. The deploy token is shown once and lives `token_ttl` seconds.',
  })
  @ApiErrors('TRUSTED_PUBLISHING_TOKEN_INVALID', 'TRUSTED_PUBLISHING_NO_PUBLISHER', 'TRUSTED_PUBLISHING_TOKEN_REPLAYED', 'NOT_FOUND', 'SERVICE_UNAVAILABLE')
  async exchange(@Body() body: TokenExchangeDto): Promise<TokenExchangeResponse> {
    const { plugin, publisher, token, secret } = await this.publishing.exchange(body.token, body.plugin);
    return { ...toPluginTokenResponse(plugin, token, null, this.clock.now()), token: secret, publisher_id: publisher.id };
  }
}
