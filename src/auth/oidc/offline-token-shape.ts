import type { OidcProviderConfig } from '../../config/oidc.config';

/** What the unverified payload of a JWT-shaped token says (enough to route it, never to trust it). */
export interface JwtHints {
  iss?: string;
  azp?: string;
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
    const payload = JSON.parse(Buffer.from(token.slice(dot + 1, token.indexOf('.', dot + 1)), 'base64url').toString('utf8')) as unknown;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    const p = payload as Record<string, unknown>;
    return {
      iss: typeof p.iss === 'string' ? p.iss.replace(/\/+$/, '') : undefined,
      azp: typeof p.azp === 'string' ? p.azp : undefined,
      iat: typeof p.iat === 'number' && Number.isFinite(p.iat) ? p.iat : undefined,
      exp: typeof p.exp === 'number' && Number.isFinite(p.exp) && p.exp > 0 ? p.exp : undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * The configured providers that may have issued `token` as a refresh (offline) token, decided
 * without any I/O, before anything is sent to an IdP:
 * - a JWT-shaped value (Keycloak's offline tokens) goes only to the provider whose issuer is its
 *   `iss`, and only when its `azp` (if any) is that provider's client id and its `exp` (if any) is
 *   in the future; a JWT with no `iss` or a foreign one goes nowhere;
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
    if (!hints.iss || (hints.exp !== undefined && hints.exp <= nowSeconds)) return [];
    return providers.filter((p) => p.config.issuer === hints.iss && (hints.azp === undefined || hints.azp === p.config.clientId));
  }
  if (token.length < OPAQUE_MIN_LENGTH || token.split('.').length === 3) return [];
  return providers.filter((p) => p.config.opaqueOfflineTokens && (!p.config.offlineTokenPrefix || token.startsWith(p.config.offlineTokenPrefix)));
}
