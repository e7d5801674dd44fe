import { ApiProperty, ApiPropertyOptional } from '../../common/http/api-docs';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsUUID, Matches, MaxLength } from 'class-validator';
import { ApiKeyResponse, toApiKeyResponse } from '../../api-keys/dto/api-key-response.dto';
import type { ApiKey } from '../../api-keys/api-key.entity';
import type { KeyUse } from '../../api-keys/api-key-usage.recorder';
import { credentialStatus, type CredentialStatus } from '../../common/auth/credential-status';
import { PluginTokenResponse } from '../../plugin-tokens/dto/plugin-token.dto';
import { PACKAGE_NAME } from '../../plugins/plugins.service';
import type { Session } from '../../sessions/session.entity';
import { PageQueryDto } from './page.dto';

const STATUSES: CredentialStatus[] = ['active', 'expired', 'revoked'];

export class ListSessionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Sessions of this user id' })
  @IsOptional()
  @IsUUID('all')
  user?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: CredentialStatus;
}

export class ListApiKeysQueryDto extends ListSessionsQueryDto {}

export class ListDeployTokensQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Tokens of this plugin (package name)' })
  @IsOptional()
  @MaxLength(100)
  @Matches(PACKAGE_NAME, { message: 'plugin must be a package name' })
  plugin?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: CredentialStatus;
}

export class StaleQueryDto extends PageQueryDto {
  @ApiProperty({ description: 'ISO 8601: live API keys and deploy tokens not used since then (never used: created before it)' })
  @Type(() => Date)
  @IsDate()
  unused_since: Date;
}

export class AdminSessionResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty({ nullable: true, type: String }) username: string | null;
  @ApiProperty({ enum: ['api', 'browser'], description: 'Refresh tokens (api) or the lk_session cookie (browser)' }) kind: 'api' | 'browser';
  @ApiProperty({ description: '`password` or `oidc`' }) auth_method: string;
  @ApiProperty({ nullable: true, type: String }) idp_provider: string | null;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) last_refreshed_at: string | null;
  @ApiProperty() refresh_count: number;
  @ApiProperty() expires_at: string;
  @ApiProperty({ nullable: true, type: String }) revoked_at: string | null;
  @ApiProperty({ nullable: true, type: String }) revoked_reason: string | null;
  @ApiProperty({ enum: STATUSES }) status: CredentialStatus;
}

export class AdminApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty({ nullable: true, type: String }) username: string | null;
  @ApiProperty({ nullable: true, type: String }) revoked_at: string | null;
}

export class AdminDeployTokenResponse extends PluginTokenResponse {
  @ApiProperty({ nullable: true, type: String }) revoked_at: string | null;
}

export class AdminSessionPage {
  @ApiProperty({ type: [AdminSessionResponse] }) items: AdminSessionResponse[];
  @ApiProperty() total: number;
  @ApiProperty() offset: number;
  @ApiProperty() limit: number;
}

export class AdminApiKeyPage {
  @ApiProperty({ type: [AdminApiKeyResponse] }) items: AdminApiKeyResponse[];
  @ApiProperty() total: number;
  @ApiProperty() offset: number;
  @ApiProperty() limit: number;
}

export class AdminDeployTokenPage {
  @ApiProperty({ type: [AdminDeployTokenResponse] }) items: AdminDeployTokenResponse[];
  @ApiProperty() total: number;
  @ApiProperty() offset: number;
  @ApiProperty() limit: number;
}

export class StaleCredentialsResponse {
  @ApiProperty() unused_since: string;
  @ApiProperty({ type: AdminApiKeyPage, description: 'Least recently used first' }) api_keys: AdminApiKeyPage;
  @ApiProperty({ type: AdminDeployTokenPage, description: 'Least recently used first' }) deploy_tokens: AdminDeployTokenPage;
}

export function toAdminSessionResponse(s: Session & { browser: boolean }, username: string | null, now: Date): AdminSessionResponse {
  return {
    id: s.id,
    user_id: s.userId,
    username,
    kind: s.browser ? 'browser' : 'api',
    auth_method: s.authMethod,
    idp_provider: s.idpProvider,
    ip: s.ip,
    user_agent: s.userAgent,
    created_at: s.createdAt.toISOString(),
    last_refreshed_at: s.lastRefreshedAt?.toISOString() ?? null,
    refresh_count: s.refreshCount,
    expires_at: s.expiresAt.toISOString(),
    revoked_at: s.revokedAt?.toISOString() ?? null,
    revoked_reason: s.revokedReason,
    status: credentialStatus(s, now),
  };
}

export function toAdminApiKeyResponse(key: ApiKey, lastUse: KeyUse | null, username: string | null): AdminApiKeyResponse {
  return { ...toApiKeyResponse(key, lastUse), user_id: key.userId, username, revoked_at: key.revokedAt?.toISOString() ?? null };
}
