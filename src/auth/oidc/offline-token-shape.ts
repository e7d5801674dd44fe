import type { OidcProviderConfig } from '../../config/oidc.config';

/** What the unverified payload of a JWT-shaped token says (enough to route it, never to trust it). */
export interface JwtHints {
  /** The header's `alg`. */
  alg?: string;
  /** The header's `typ` (RFC 9068 access tokens: `at+jwt`). */
  headerTyp?: string;
  iss?: string;
  azp?: string;
  /** The payload's `typ` (Keycloak: Bearer, ID, Refresh, Offline). */
  typ?: string;
  /** Seconds since 1970. */
  iat?: number;
  exp?: number;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Opaque refresh tokens: at least 16 characters (a guessable value is no token), no dots of a JWT. */
const OPAQUE_MIN_LENGTH = 16;

/** The claims of a JWT-shaped value, decoded without verification; undefined when it is not one. */
export function jwtHints(token: string): JwtHints | undefined {
  if (!JWT_SHAPE.test(token)) return undefined;
  const dot = token.indexOf('.');
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as unknown;
    const h = header && typeof header === 'object' ? (header as { alg?: unknown; typ?: unknown }) : {};
    const alg = typeof h.alg === 'string' ? h.alg : undefined;
    const headerTyp = typeof h.typ === 'string' ? h.typ : undefined;
    const payload = JSON.parse(Buffer.from(token.slice(dot + 1, token.indexOf('.', dot + 1)), 'base64url').toString('utf8')) as unknown;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    const p = payload as Record<string, unknown>;
    return {
      alg,
      headerTyp,
      iss: typeof p.iss === 'string' ? p.iss.replace(/\/+$/, '') : undefined,
      azp: typeof p.azp === 'string' ? p.azp : undefined,
      typ: typeof p.typ === 'string' ? p.typ : undefined,
      iat: typeof p.iat === 'number' && Number.isFinite(p.iat) ? p.iat : undefined,
      exp: typeof p.exp === 'number' && Number.isFinite(p.exp) && p.exp > 0 ? p.exp : undefined,
    };
  } catch {
    return undefined;
  }
}

/** JWS algorithms of IdP-signed tokens: public-key signatures only (never `none`, never a shared secret). */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
const REFRESH_TYPES = new Set(['refresh', 'offline']);

/**
 * Whether a JWT is shaped like an IdP's access (or ID) token rather than a refresh token: signed
 * with a public-key algorithm, and not typed Refresh/Offline (Keycloak's refresh and offline
 * tokens are HS-signed and say so in `typ`; only the IdP reads them). Such a value is never sent
 * to a token endpoint: it is verified locally, or refused.
 */
export function isSignedAccessTokenShape(hints: JwtHints): boolean {
  return (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(hints.alg ?? '') && !REFRESH_TYPES.has((hints.typ ?? '').toLowerCase());
}

/**
 * The configured providers that may have issued `token` as a refresh (offline) token, decided
 * without any I/O, before anything is sent to an IdP:
 * - a JWT-shaped value (Keycloak's offline tokens) goes only to the provider whose issuer is its
 *   `iss`, and only when its `azp` (if any) is that provider's client id and its `exp` (if any) is
 *   in the future, and only when it says it is a refresh token (`typ` Refresh or Offline, as
 *   Keycloak's are); a JWT with no `iss` or a foreign one goes nowhere, nor does any other JWT
 *   (access and ID tokens, `alg: none`, junk: an access token is verified locally when its
 *   provider accepts them, see isSignedAccessTokenShape);
 * - any other value goes only to the providers with OIDC_<NAME>_OPAQUE_OFFLINE_TOKENS=true (and
 *   its OFFLINE_TOKEN_PREFIX, when set), and only when it is at least 16 characters long.
 * An empty answer means: refuse at once (401), no IdP is asked.
 */
export function offlineTokenCandidates<T extends { readonly config: OidcProviderConfig }>(
  token: string,
  providers: readonly T[],
  nowSeconds: number = Date.now() / 1000,
): T[] {
  const hints = jwtHints(token);
  if (hints) {
    if (!hints.iss || (hints.exp !== undefined && hints.exp <= nowSeconds) || !REFRESH_TYPES.has((hints.typ ?? '').toLowerCase())) return [];
    return providers.filter((p) => p.config.issuer === hints.iss && (hints.azp === undefined || hints.azp === p.config.clientId));
  }
  if (token.length < OPAQUE_MIN_LENGTH || token.split('.').length === 3) return [];
  return providers.filter((p) => p.config.opaqueOfflineTokens && (!p.config.offlineTokenPrefix || token.startsWith(p.config.offlineTokenPrefix)));
}
