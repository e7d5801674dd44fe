import { ApiProperty } from '../../common/http/api-docs';
import { scopesForRoles } from '../../common/auth/scopes';
import { EXPIRY_WARNING_DAYS, expiresSoon } from '../../common/auth/credential-status';
import type { ApiKey } from '../../api-keys/api-key.entity';
import type { PluginToken } from '../../plugin-tokens/plugin-token.entity';
import { TiledApiKeyResponse } from '../../api-keys/dto/api-key-response.dto';
import type { Session } from '../../sessions/session.entity';
import type { Identity } from '../../users/identity.entity';
import type { User } from '../../users/user.entity';

export class IdentityResponse {
  @ApiProperty() id: string;
  @ApiProperty() provider: string;
  @ApiProperty({ nullable: true, type: String }) latest_login: string | null;
}

export class RoleResponse {
  @ApiProperty() name: string;
  @ApiProperty({ type: [String] }) scopes: string[];
}

export class SessionResponse {
  @ApiProperty({ format: 'uuid' }) uuid: string;
  @ApiProperty() expiration_time: string;
  @ApiProperty() revoked: boolean;
  @ApiProperty({ nullable: true, type: Object }) state: Record<string, unknown> | null;
}

/** Tiled's Principal object (contract §7). */
export class PrincipalResponse {
  @ApiProperty({ format: 'uuid' }) uuid: string;
  @ApiProperty({ enum: ['user', 'service'] }) type: 'user' | 'service';
  @ApiProperty({ type: [IdentityResponse] }) identities: IdentityResponse[];
  @ApiProperty({ type: [RoleResponse] }) roles: RoleResponse[];
  @ApiProperty({ type: [TiledApiKeyResponse] }) api_keys: TiledApiKeyResponse[];
  @ApiProperty({ type: [SessionResponse] }) sessions: SessionResponse[];
  @ApiProperty({ nullable: true, type: String }) latest_activity: string | null;
}

/** A credential of the caller's that still works but expires soon (Latchkey's). */
export class ExpiringCredentialResponse {
  @ApiProperty({ enum: ['api_key', 'deploy_token'] }) type: 'api_key' | 'deploy_token';
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: "An API key's first eight characters, or a deploy token's description" }) name: string;
  @ApiProperty({ nullable: true, type: String, description: "A deploy token's plugin (one the caller maintains)" }) plugin: string | null;
  @ApiProperty() expires_at: string;
}

/** `GET /auth/whoami`: Tiled's Principal, plus what each of the caller's scopes allows (Latchkey's). */
export class WhoamiResponse extends PrincipalResponse {
  @ApiProperty({
    type: [ExpiringCredentialResponse],
    description: `The caller's API keys, and the deploy tokens of the plugins they maintain, that expire within ${EXPIRY_WARNING_DAYS} days, soonest first`,
  })
  expiring_credentials: ExpiringCredentialResponse[];

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string', nullable: true }, description: "Each scope of the caller's roles → what it allows (declared by the module that owns it)" })
  scope_descriptions: Record<string, string | null>;
}

/**
 * Tiled's `latest_activity`: the latest of the user's logins (password and IdP identities),
 * session refreshes and API key uses; null when there was none.
 */
export function latestActivity(
  user: Pick<User, 'lastLoginAt'>,
  external: Pick<Identity, 'lastLoginAt'>[],
  sessions: Pick<Session, 'lastRefreshedAt'>[],
  keyUses: (Date | null | undefined)[],
): Date | null {
  const times = [user.lastLoginAt, ...external.map((i) => i.lastLoginAt), ...sessions.map((s) => s.lastRefreshedAt), ...keyUses].filter(
    (d): d is Date => !!d,
  );
  return times.length ? new Date(Math.max(...times.map((d) => d.getTime()))) : null;
}

/**
 * Tiled's Principal. A service principal (`user.kind === 'service'`) has type `service` and no
 * identities: it never logs in.
 */
export function toPrincipalResponse(
  user: User,
  sessions: Session[],
  apiKeys: TiledApiKeyResponse[],
  passwordProvider: string,
  external: Identity[] = [],
  hasPassword = true,
): PrincipalResponse {
  const latest = latestActivity(
    user,
    external,
    sessions,
    apiKeys.map((k) => (k.latest_activity ? new Date(k.latest_activity) : null)),
  );
  const service = user.kind === 'service';
  return {
    uuid: user.id,
    type: service ? 'service' : 'user',
    identities: [
      // Users made for an IdP identity have no password, hence no identity at the password provider.
      ...(service || (!hasPassword && external.length > 0)
        ? []
        : [{ id: user.username, provider: passwordProvider, latest_login: user.lastLoginAt?.toISOString() ?? null }]),
      ...external.map((i) => ({ id: i.subject, provider: i.provider, latest_login: i.lastLoginAt?.toISOString() ?? null })),
    ],
    roles: user.roles.map((name) => ({ name, scopes: [...scopesForRoles([name])] })),
    api_keys: apiKeys,
    sessions: sessions.map((s) => ({
      uuid: s.id,
      expiration_time: s.expiresAt.toISOString(),
      revoked: s.revokedAt !== null,
      state: {},
    })),
    latest_activity: latest?.toISOString() ?? null,
  };
}

/**
 * `expiring_credentials`: the keys of `keys` that expire soon, and `tokens` (already the caller's
 * plugins' expiring deploy tokens, with their plugin), soonest first.
 */
export function expiringCredentials(keys: ApiKey[], tokens: PluginToken[], now = new Date()): ExpiringCredentialResponse[] {
  return [
    ...keys.filter((k) => expiresSoon(k, now)).map((k) => ({ type: 'api_key' as const, id: k.id, name: k.firstEight, plugin: null, expires_at: k.expiresAt! })),
    ...tokens.map((t) => ({ type: 'deploy_token' as const, id: t.id, name: t.description, plugin: t.plugin!.name, expires_at: t.expiresAt! })),
  ]
    .sort((a, b) => a.expires_at.getTime() - b.expires_at.getTime())
    .map((c) => ({ ...c, expires_at: c.expires_at.toISOString() }));
}
