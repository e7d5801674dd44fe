import { ApiProperty } from '../../common/http/api-docs';
import type { Identity } from '../identity.entity';

/** A user's linked account at an identity provider. */
export class IdentityResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'The configured provider name (OIDC_PROVIDERS)' }) provider: string;
  @ApiProperty() issuer: string;
  @ApiProperty({ description: "The account's subject (`sub`) at the provider" }) subject: string;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String, description: 'Last login through this identity' }) last_login_at: string | null;
}

export function toIdentityResponse(identity: Identity): IdentityResponse {
  return {
    id: identity.id,
    provider: identity.provider,
    issuer: identity.issuer,
    subject: identity.subject,
    created_at: new Date(identity.createdAt).toISOString(),
    last_login_at: identity.lastLoginAt ? new Date(identity.lastLoginAt).toISOString() : null,
  };
}
