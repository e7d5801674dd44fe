import { ApiProperty, ApiPropertyOptional } from '../../common/http/api-docs';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { credentialStatus, EXPIRY_WARNING_DAYS, expiresSoon, type CredentialStatus } from '../../common/auth/credential-status';
import type { LastUse } from '../../common/usage/last-use-recorder';
import type { Plugin } from '../../plugins/plugin.entity';
import type { PluginToken } from '../plugin-token.entity';

export class CreatePluginTokenDto {
  @ApiProperty({ example: 'github action', maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  description: string;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Lifetime in seconds; omitted or null = no expiry (unless the server sets a maximum)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100 * 365 * 24 * 3600)
  expires_in?: number | null;
}

export class UpdatePluginTokenDto {
  @ApiProperty({ maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  description: string;
}

export class RotatePluginTokenDto {
  @ApiPropertyOptional({ default: 0, description: 'Seconds the old secret keeps working' })
  @IsOptional()
  @IsInt()
  @Min(0)
  overlap_seconds?: number;
}

export class PluginTokenResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() plugin: string;
  @ApiProperty() description: string;
  @ApiProperty({ nullable: true, type: String, description: 'Username of the maintainer who made it (display only)' })
  created_by: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: "Set when a trusted publisher's CI job got it (15 minutes, by exchanging its OIDC ID token)" })
  trusted_publisher_id: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) rotated_at: string | null;
  @ApiProperty({ nullable: true, type: String }) last_used_at: string | null;
  @ApiProperty({ nullable: true, type: String }) last_used_ip: string | null;
  @ApiProperty({ nullable: true, type: String }) expires_at: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'After a rotation: until when the previous secret still works' })
  previous_secret_valid_until: string | null;
  @ApiProperty({ enum: ['active', 'expired', 'revoked'] }) status: CredentialStatus;
  @ApiProperty({ description: `Active, and expires within ${EXPIRY_WARNING_DAYS} days: replace it in the CI settings (never set for a trusted publisher's token, which lives minutes by design)` }) expires_soon: boolean;
}

export class PluginTokenWithSecret extends PluginTokenResponse {
  @ApiProperty({ description: 'Shown once, in this response only' }) token: string;
}

/**
 * Whether to warn that a deploy token expires soon (EXPIRY_WARNING_DAYS): never for one a trusted
 * publisher's CI job got, which lives minutes by design and is replaced at every run.
 */
export function deployTokenExpiresSoon(t: Pick<PluginToken, 'revokedAt' | 'expiresAt' | 'trustedPublisherId'>, now: Date): boolean {
  return !t.trustedPublisherId && expiresSoon(t, now);
}

export function toPluginTokenResponse(plugin: Plugin, t: PluginToken, lastUse: LastUse | null, now: Date): PluginTokenResponse {
  return {
    id: t.id,
    plugin: plugin.name,
    description: t.description,
    created_by: t.createdBy?.username ?? null,
    trusted_publisher_id: t.trustedPublisherId ?? null,
    created_at: t.createdAt.toISOString(),
    rotated_at: t.rotatedAt?.toISOString() ?? null,
    last_used_at: lastUse?.at.toISOString() ?? null,
    last_used_ip: lastUse?.ip ?? null,
    expires_at: t.expiresAt?.toISOString() ?? null,
    previous_secret_valid_until: t.previousValidUntil && t.previousValidUntil > now ? t.previousValidUntil.toISOString() : null,
    status: credentialStatus(t, now),
    expires_soon: deployTokenExpiresSoon(t, now),
  };
}
