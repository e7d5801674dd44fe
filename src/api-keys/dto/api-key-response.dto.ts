import { ApiProperty } from '../../common/http/api-docs';
import { credentialStatus, EXPIRY_WARNING_DAYS, expiresSoon, type CredentialStatus } from '../../common/auth/credential-status';
import type { ApiKey } from '../api-key.entity';
import type { KeyUse } from '../api-key-usage.recorder';

/** Tiled's APIKey object (contract §7). */
export class TiledApiKeyResponse {
  @ApiProperty() first_eight: string;
  @ApiProperty({ nullable: true, type: String }) expiration_time: string | null;
  @ApiProperty({ nullable: true, type: String }) note: string | null;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ nullable: true, type: [String] }) access_tags: string[] | null;
  @ApiProperty({ nullable: true, type: String }) latest_activity: string | null;
}

export class TiledApiKeyWithSecret extends TiledApiKeyResponse {
  @ApiProperty({ description: 'Shown once, in this response only' }) secret: string;
}

/** Latchkey's richer view, for `/api/v1/api-keys`. Never carries the secret. */
export class ApiKeyResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() first_eight: string;
  @ApiProperty({ nullable: true, type: String }) note: string | null;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ nullable: true, type: [String] }) access_tags: string[] | null;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) expires_at: string | null;
  @ApiProperty({ nullable: true, type: String }) last_used_at: string | null;
  @ApiProperty({ nullable: true, type: String }) last_used_ip: string | null;
  @ApiProperty({ enum: ['active', 'expired', 'revoked'] }) status: CredentialStatus;
  @ApiProperty({ description: `Active, and expires within ${EXPIRY_WARNING_DAYS} days: renew or replace it` }) expires_soon: boolean;
}

export function toTiledApiKey(key: ApiKey, lastUse: KeyUse | null): TiledApiKeyResponse {
  return {
    first_eight: key.firstEight,
    expiration_time: key.expiresAt?.toISOString() ?? null,
    note: key.note,
    scopes: key.scopes,
    access_tags: key.accessTags,
    latest_activity: lastUse?.at.toISOString() ?? null,
  };
}

export function toApiKeyResponse(key: ApiKey, lastUse: KeyUse | null): ApiKeyResponse {
  return {
    id: key.id,
    first_eight: key.firstEight,
    note: key.note,
    scopes: key.scopes,
    access_tags: key.accessTags,
    created_at: key.createdAt.toISOString(),
    expires_at: key.expiresAt?.toISOString() ?? null,
    last_used_at: lastUse?.at.toISOString() ?? null,
    last_used_ip: lastUse?.ip ?? null,
    status: credentialStatus(key),
    expires_soon: expiresSoon(key),
  };
}
