import { SetMetadata } from '@nestjs/common';
import type { PrincipalKind } from '../principal';

export const IS_PUBLIC = 'latchkey:public';
export const OPTIONAL_AUTH = 'latchkey:optional-auth';
export const ROLES = 'latchkey:roles';
export const SCOPES = 'latchkey:scopes';
export const PRINCIPAL_KINDS = 'latchkey:principal-kinds';
export const TILED_COMPATIBLE = 'latchkey:tiled-compatible';
export const SESSION_ONLY = 'latchkey:session-only';
export const RECENT_LOGIN = 'latchkey:recent-login';

/** No credential needed, none is read: login, refresh, handshake, health. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/**
 * A credential is verified when one is presented (a bad one is still a 401), but anonymous
 * callers get through with a null principal (Tiled's `whoami` answers `null` to them).
 */
export const OptionalAuth = () => SetMetadata(OPTIONAL_AUTH, true);

/**
 * The caller must hold at least one of these roles (403 otherwise). On both a class and a
 * method, both apply: a method-level list narrows the class-level one.
 */
export const Roles = (...roles: string[]) => SetMetadata(ROLES, roles);

/** The caller's credential must carry every one of these scopes (403 naming the missing ones). */
export const RequireScopes = (...scopes: string[]) => SetMetadata(SCOPES, scopes);

/**
 * Accept a plugin deploy token on this route, alongside user credentials. The route's handler
 * must then check that the token's plugin is the one addressed.
 */
export const AcceptPluginToken = () => SetMetadata(PRINCIPAL_KINDS, ['user', 'plugin_token'] satisfies PrincipalKind[]);

/**
 * For routes of the Tiled API: a missing scope is answered as Tiled does (401 "Not enough
 * permissions…" with `WWW-Authenticate: Bearer scope="…"`) instead of Latchkey's 403, because
 * Tiled clients expect it. Class or method level.
 */
export const TiledCompatible = () => SetMetadata(TILED_COMPATIBLE, true);

/**
 * Sensitive account actions (revoke everything, change the password): only an access token from
 * an interactive login will do, so a leaked API key, whatever its scopes, cannot take over or
 * lock out its owner. 403 SESSION_REQUIRED otherwise.
 */
export const SessionOnly = () => SetMetadata(SESSION_ONLY, true);

/**
 * Sensitive actions (password change, revoke-all, making someone an administrator): the
 * interactive login behind the request must be at most RECENT_LOGIN_MAX_AGE seconds old.
 * Implies `@SessionOnly()`: an API key or deploy token is 403 SESSION_REQUIRED. An older login
 * (refreshing does not renew it) is 401 REAUTH_REQUIRED: log in again, then retry. Enforced by
 * AuthorizationGuard after roles and scopes; handlers whose need depends on the request (granting
 * the admin role) call `RecentLoginPolicy.assert()` themselves.
 */
export const RecentLogin = () => SetMetadata(RECENT_LOGIN, true);
