/**
 * Access tokens (JWT) as `Authorization: Bearer`.
 *
 * Decision: the access token is trusted until it expires (no session-row lookup per request),
 * like Tiled and brocoders, so JWT requests cost no database query and keep working while the
 * database is down. What still revokes a live access token at once is the user's state, read
 * from a short-TTL in-memory cache (`UserStateCache`): disabling the user or bumping their epoch
 * (revoke everything), and a revoked session: `RevokedSessions` holds the sessions revoked within
 * the last ACCESS_TOKEN_MAX_AGE (filled here, from other instances through Redis, and from Redis
 * at start) and is asked with one in-memory lookup, so revocation costs no I/O per request.
 * A session that ends itself (logout, or revoking the very session the request is made with)
 * is not listed: as in Tiled, the access token the client holds lives out its
 * `ACCESS_TOKEN_MAX_AGE`. Without Redis, another instance learns of a session revocation only
 * when its access tokens expire; with Redis, within a pub/sub message.
 *
 * Roles and scopes are the token's claims, except that a role the user no longer holds (by the
 * same cached state) is dropped at once, with its scopes: demoting an administrator does not wait
 * for their tokens to expire. A role granted since shows at the next refresh.
 */
import { Injectable } from '@nestjs/common';
import { unauthorized } from '../../common/errors/app-error';
import { CredentialStrategies, RegisteredStrategy } from '../../common/auth/credential-strategy';
import type { PresentedCredential } from '../../common/auth/credentials';
import type { UserPrincipal } from '../../common/auth/principal';
import { scopesForRoles } from '../../common/auth/scopes';
import { andThen, type MaybePromise } from '../../common/maybe-async';
import { UsersService } from '../../users/users.service';
import type { UserState } from '../../users/user-state.cache';
import { AccessTokenClaims, AccessTokenService } from '../access-token.service';
import { RevokedSessions } from '../revoked-sessions';

/** Compact JWS: three base64url segments. Tells JWTs from opaque `lk_…` secrets without I/O. */
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/;

@Injectable()
export class AccessTokenStrategy extends RegisteredStrategy {
  readonly name = 'access-token';
  readonly principalKind = 'user' as const;

  constructor(
    private readonly tokens: AccessTokenService,
    private readonly users: UsersService,
    private readonly revokedSessions: RevokedSessions,
    registry: CredentialStrategies,
  ) {
    super(registry);
  }

  /**
   * JWT-shaped Bearer values signed (by their `kid`) with one of our keys. With OIDC providers
   * configured, other JWTs are left to the offline-token strategy; without, no strategy takes
   * them and the guard answers 401.
   */
  accepts(credential: PresentedCredential): boolean {
    return credential.scheme === 'bearer' && JWT_SHAPE.test(credential.secret) && this.tokens.isOwnKid(credential.secret);
  }

  /** Synchronous when the user's state is cached (the usual case): no promise on the hot path. */
  authenticate(credential: PresentedCredential): MaybePromise<UserPrincipal> {
    const claims = this.tokens.verify(credential.secret);
    if (this.revokedSessions.has(claims.sid)) throw unauthorized('AUTH_INVALID_TOKEN', 'This token has been revoked.');
    return andThen(this.users.state(claims.sub), (state) => toPrincipal(claims, state));
  }
}

function toPrincipal(claims: AccessTokenClaims, state: UserState): UserPrincipal {
  if (!state.exists) throw unauthorized('AUTH_INVALID_TOKEN', 'Principal no longer exists.');
  if (state.status !== 'active') throw unauthorized('AUTH_USER_INACTIVE', 'This account is disabled.');
  if (claims.epoch < state.epoch) throw unauthorized('AUTH_INVALID_TOKEN', 'This token has been revoked.');
  let { roles, scp: scopes } = claims;
  if (!roles.every((r) => state.roles.includes(r))) {
    roles = roles.filter((r) => state.roles.includes(r));
    const allowed = scopesForRoles(roles);
    scopes = scopes.filter((s) => allowed.includes(s));
  }
  return {
    kind: 'user',
    userId: claims.sub,
    username: claims.preferred_username,
    roles,
    groups: claims.groups ?? [],
    scopes,
    credential:
      claims.auth_time === undefined
        ? { type: 'access_token', sessionId: claims.sid }
        : { type: 'access_token', sessionId: claims.sid, authTime: claims.auth_time },
  };
}
