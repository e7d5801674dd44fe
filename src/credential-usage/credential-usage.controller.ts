import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '../common/http/api-docs';
import { CurrentPrincipal, RequireScopes, Roles } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { Role } from '../common/auth/scopes';
import { AppError } from '../common/errors/app-error';
import { PluginsService } from '../plugins/plugins.service';
import type { UsageCredentialType } from './credential-use.entity';
import { CredentialUsageService } from './credential-usage.service';
import { CredentialUsageResponse } from './dto/credential-usage-response.dto';

/** `GET /api-keys/{id}/usage`: the owner's view of one of their keys. */
@ApiTags('api-keys')
@Controller('api-keys')
export class ApiKeyUsageLogController {
  constructor(private readonly usage: CredentialUsageService) {}

  /** The key's last uses, newest first. Owner only: someone else's key is the same 404 as an unknown id. Scope read:account, like `GET /api-keys`. */
  @Get(':id/usage')
  @RequireScopes('read:account')
  @ApiOkResponse({ type: CredentialUsageResponse })
  @ApiOperation({ summary: 'Recent uses of one of my API keys', description: 'Newest first: when, from which address and client, on which route. Someone else\'s key is the same 404 as an unknown id.' })
  @ApiErrors('API_KEY_NOT_FOUND')
  async get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: UserPrincipal): Promise<CredentialUsageResponse> {
    await this.usage.assertOwnApiKey(principal.userId, id);
    return this.usage.usage({ type: 'api_key', id });
  }
}

/** `GET /plugins/{package}/tokens/{id}/usage`: every maintainer sees every token's uses. */
@ApiTags('plugin-tokens')
@Controller('plugins/:package/tokens')
export class PluginTokenUsageLogController {
  constructor(
    private readonly plugins: PluginsService,
    private readonly usage: CredentialUsageService,
  ) {}

  /** The token's last uses, newest first; same callers and errors as the other token routes. */
  @Get(':id/usage')
  @RequireScopes('write:plugins')
  @ApiOkResponse({ type: CredentialUsageResponse })
  @ApiOperation({ summary: 'Recent uses of a deploy token (maintainers)' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED', 'PLUGIN_TOKEN_NOT_FOUND')
  async get(@Param('package') name: string, @Param('id') id: string, @CurrentPrincipal() principal: UserPrincipal): Promise<CredentialUsageResponse> {
    const plugin = await this.plugins.getMaintained(name, principal);
    await this.usage.assertTokenOfPlugin(plugin, id);
    return this.usage.usage({ type: 'deploy_token', id });
  }
}

const KINDS: Readonly<Record<string, UsageCredentialType>> = Object.freeze({ 'api-keys': 'api_key', 'deploy-tokens': 'deploy_token' });

/** `GET /admin/credentials/{kind}/{id}/usage`: any API key's or deploy token's uses. */
@ApiTags('admin')
@Roles(Role.Admin)
@Controller('admin/credentials')
export class AdminUsageLogController {
  constructor(private readonly usage: CredentialUsageService) {}

  @Get(':kind/:id/usage')
  @ApiParam({ name: 'kind', enum: Object.keys(KINDS) })
  @ApiOkResponse({ type: CredentialUsageResponse })
  @ApiOperation({ summary: 'Recent uses of any API key or deploy token' })
  @ApiErrors('NOT_FOUND', 'API_KEY_NOT_FOUND', 'PLUGIN_TOKEN_NOT_FOUND')
  async get(@Param('kind') kind: string, @Param('id', new ParseUUIDPipe()) id: string): Promise<CredentialUsageResponse> {
    const type = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
    if (!type) throw new AppError('NOT_FOUND', `Unknown credential kind; use ${Object.keys(KINDS).join(' or ')}.`);
    await this.usage.assertExists({ type, id });
    return this.usage.usage({ type, id });
  }
}
