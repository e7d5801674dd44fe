import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { Roles } from '../common/auth/decorators';
import { Role } from '../common/auth/scopes';
import { AdminCredentialsService } from './admin-credentials.service';
import {
  AdminApiKeyPage,
  AdminDeployTokenPage,
  AdminSessionPage,
  ListApiKeysQueryDto,
  ListDeployTokensQueryDto,
  ListSessionsQueryDto,
  StaleCredentialsResponse,
  StaleQueryDto,
} from './dto/admin-credentials.dto';
import { pageOf } from './dto/page.dto';
import { uuidOr404 } from '../common/http/uuid-param.pipe';

/**
 * Every session, API key and deploy token, whoever holds it. Revoking is idempotent (204 again
 * for a revoked one) and records the same audit event as the owner's own revocation, with the
 * administrator as actor.
 */
@ApiTags('admin')
@Roles(Role.Admin)
@Controller('admin/credentials')
export class AdminCredentialsController {
  constructor(private readonly admin: AdminCredentialsService) {}

  @Get('sessions')
  @ApiOkResponse({ type: AdminSessionPage })
  @ApiOperation({ summary: 'List sessions (any user)', description: 'Filter by user and status; one page at a time.' })
  sessions(@Query() q: ListSessionsQueryDto): Promise<AdminSessionPage> {
    return this.admin.listSessions({ ...pageOf(q), userId: q.user?.toLowerCase(), status: q.status });
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Revoke a session (any user)', description: 'Idempotent: revoking a revoked session is 204 again. Audited with the administrator as actor.' })
  revokeSession(@Param('id', uuidOr404('SESSION_NOT_FOUND', 'No such session.')) id: string): Promise<void> {
    return this.admin.revokeSession(id);
  }

  @Get('api-keys')
  @ApiOkResponse({ type: AdminApiKeyPage })
  @ApiOperation({ summary: 'List API keys (any user; never their secrets)', description: 'Filter by user, status and last use.' })
  apiKeys(@Query() q: ListApiKeysQueryDto): Promise<AdminApiKeyPage> {
    return this.admin.listApiKeys({ ...pageOf(q), userId: q.user?.toLowerCase(), status: q.status });
  }

  @Delete('api-keys/:id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Revoke an API key (any user)', description: 'Idempotent. Audited with the administrator as actor.' })
  revokeApiKey(@Param('id', uuidOr404('API_KEY_NOT_FOUND', 'No such API key.')) id: string): Promise<void> {
    return this.admin.revokeApiKey(id);
  }

  @Get('deploy-tokens')
  @ApiOkResponse({ type: AdminDeployTokenPage })
  @ApiOperation({ summary: 'List deploy tokens (any plugin; never their secrets)', description: 'Filter by plugin, status and last use.' })
  deployTokens(@Query() q: ListDeployTokensQueryDto): Promise<AdminDeployTokenPage> {
    return this.admin.listDeployTokens({ ...pageOf(q), plugin: q.plugin, status: q.status });
  }

  @Delete('deploy-tokens/:id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Revoke a deploy token (any plugin)', description: 'Idempotent. Audited with the administrator as actor.' })
  revokeDeployToken(@Param('id', uuidOr404('PLUGIN_TOKEN_NOT_FOUND', 'No such deploy token.')) id: string): Promise<void> {
    return this.admin.revokeDeployToken(id);
  }

  /** Live API keys and deploy tokens unused since `unused_since`: candidates for revocation. */
  @Get('stale')
  @ApiOkResponse({ type: StaleCredentialsResponse })
  @ApiOperation({ summary: 'Live API keys and deploy tokens unused since a date', description: 'Candidates for revocation.' })
  stale(@Query() q: StaleQueryDto): Promise<StaleCredentialsResponse> {
    return this.admin.stale(q.unused_since, pageOf(q));
  }
}
