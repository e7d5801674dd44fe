import { ConfigError } from './env.validation';

/** One external OpenID Connect provider (Keycloak, ORCID, …), from OIDC_<NAME>_* variables. */
export interface OidcProviderConfig {
  /** The name in URLs and identities (`/auth/provider/{name}/…`). */
  readonly name: string;
  readonly displayName: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  /** The `aud` an access token must carry; the client id when unset (or `azp` = client id). */
  readonly audience?: string;
  readonly usernameClaim: string;
  /**
   * A claim holding the user's groups (OIDC_<NAME>_GROUPS_CLAIM, e.g. `groups`): at every login or
   * token exchange the user's Latchkey groups become the claim's list. Unset: groups are Latchkey's own.
   */
  readonly groupsClaim?: string;
  /**
   * Whether a Bearer value that is not a JWT may be this IdP's offline token (sent to its token
   * endpoint). Default false: Keycloak's offline tokens are JWTs (matched by `iss`); IdPs with
   * opaque refresh tokens (oidc-provider, Auth0, Okta, Google…) must say so.
   */
  readonly opaqueOfflineTokens: boolean;
  /** With opaque tokens: a prefix every one of them starts with (e.g. Google's `1//`), if any. */
  readonly offlineTokenPrefix?: string;
  /**
   * Whether this IdP's own JWT access tokens are accepted as `Bearer`, verified locally against
   * its JWKS (OIDC_<NAME>_ACCEPT_ACCESS_TOKENS). Default false: it widens what is accepted.
   */
  readonly acceptAccessTokens: boolean;
}

/** How many offline-token exchanges may reach the IdPs (exchanges that miss every cache). */
export interface OidcExchangeLimits {
  /** Per client address (IPv6 by /64) and RATE_LIMIT_WINDOW; beyond: 429. Not applied when RATE_LIMIT_ENABLED=false. */
  readonly perIp: number;
  /** At once, per instance; beyond it `queue` more wait; beyond that: 503. */
  readonly concurrency: number;
  readonly queue: number;
}

export interface OidcConfig {
  readonly providers: readonly OidcProviderConfig[];
  /** Timeout of every request to an IdP, ms. */
  readonly httpTimeoutMs: number;
  /** Seconds a refused offline token stays refused without asking the IdP again. */
  readonly negativeCacheTtl: number;
  readonly exchanges: OidcExchangeLimits;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * OIDC_PROVIDERS=keycloak,orcid, then for each NAME (upper-cased, `-` → `_`):
 * OIDC_NAME_ISSUER (required, http(s) URL), OIDC_NAME_CLIENT_ID (required),
 * OIDC_NAME_CLIENT_SECRET (required), OIDC_NAME_SCOPES (default "openid profile email"),
 * OIDC_NAME_DISPLAY_NAME, OIDC_NAME_AUDIENCE, OIDC_NAME_USERNAME_CLAIM (preferred_username), OIDC_NAME_GROUPS_CLAIM (unset),
 * OIDC_NAME_OPAQUE_OFFLINE_TOKENS (default false), OIDC_NAME_OFFLINE_TOKEN_PREFIX,
 * OIDC_NAME_ACCEPT_ACCESS_TOKENS (default false).
 * Exchange limits: OIDC_EXCHANGES_PER_IP (default 20 per RATE_LIMIT_WINDOW; high under
 * NODE_ENV=test like the other rate limits), OIDC_EXCHANGE_CONCURRENCY (8), OIDC_EXCHANGE_QUEUE (32).
 */
export function loadOidcConfig(env: NodeJS.ProcessEnv, passwordProviderName: string): OidcConfig {
  const problems: string[] = [];
  const names = (env.OIDC_PROVIDERS ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const providers: OidcProviderConfig[] = [];
  for (const name of names) {
    if (!NAME.test(name)) {
      problems.push(`OIDC_PROVIDERS: "${name}" must be lower-case letters, digits, "-" or "_"`);
      continue;
    }
    if (name === passwordProviderName || providers.some((p) => p.name === name)) {
      problems.push(`OIDC_PROVIDERS: provider name "${name}" is used twice`);
      continue;
    }
    const prefix = `OIDC_${name.toUpperCase().replace(/-/g, '_')}_`;
    const get = (key: string) => env[prefix + key]?.trim() || undefined;
    const issuer = get('ISSUER');
    const clientId = get('CLIENT_ID');
    const clientSecret = get('CLIENT_SECRET');
    if (!issuer || !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(issuer)) problems.push(`${prefix}ISSUER: required, an http(s) URL`);
    if (!clientId) problems.push(`${prefix}CLIENT_ID: required`);
    if (!clientSecret) problems.push(`${prefix}CLIENT_SECRET=(hidden): required`);
    const opaque = (get('OPAQUE_OFFLINE_TOKENS') ?? 'false').toLowerCase();
    if (!['true', 'false', '1', '0'].includes(opaque)) problems.push(`${prefix}OPAQUE_OFFLINE_TOKENS: true or false`);
    const tokenPrefix = get('OFFLINE_TOKEN_PREFIX');
    if (tokenPrefix !== undefined && !/^[\x21-\x7e]{1,32}$/.test(tokenPrefix)) problems.push(`${prefix}OFFLINE_TOKEN_PREFIX: 1 to 32 visible ASCII characters`);
    if (tokenPrefix !== undefined && !['true', '1'].includes(opaque)) problems.push(`${prefix}OFFLINE_TOKEN_PREFIX: only with ${prefix}OPAQUE_OFFLINE_TOKENS=true`);
    const acceptAccessTokens = (get('ACCEPT_ACCESS_TOKENS') ?? 'false').toLowerCase();
    if (!['true', 'false', '1', '0'].includes(acceptAccessTokens)) problems.push(`${prefix}ACCEPT_ACCESS_TOKENS: true or false`);
    if (!issuer || !clientId || !clientSecret) continue;
    providers.push(
      Object.freeze({
        name,
        displayName: get('DISPLAY_NAME') ?? name,
        issuer: issuer.replace(/\/+$/, ''),
        clientId,
        clientSecret,
        scopes: Object.freeze((get('SCOPES') ?? 'openid profile email').split(/\s+/)),
        audience: get('AUDIENCE'),
        usernameClaim: get('USERNAME_CLAIM') ?? 'preferred_username',
        groupsClaim: get('GROUPS_CLAIM'),
        opaqueOfflineTokens: ['true', '1'].includes(opaque),
        offlineTokenPrefix: tokenPrefix,
        acceptAccessTokens: ['true', '1'].includes(acceptAccessTokens),
      }),
    );
  }
  const timeout = Number(env.OIDC_HTTP_TIMEOUT ?? 5000);
  if (!Number.isInteger(timeout) || timeout < 100 || timeout > 60_000) problems.push('OIDC_HTTP_TIMEOUT: milliseconds, 100 to 60000');
  const negative = Number(env.OFFLINE_TOKEN_NEGATIVE_TTL ?? 30);
  if (!Number.isInteger(negative) || negative < 0 || negative > 3600) problems.push('OFFLINE_TOKEN_NEGATIVE_TTL: seconds, 0 to 3600');
  const count = (name: string, fallback: number, min: number, max: number): number => {
    const value = Number(env[name]?.trim() || fallback);
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name}: a whole number, ${min} to ${max}`);
    return value;
  };
  const exchanges = Object.freeze({
    perIp: count('OIDC_EXCHANGES_PER_IP', env.NODE_ENV === 'test' ? 1_000_000 : 20, 1, 1_000_000),
    concurrency: count('OIDC_EXCHANGE_CONCURRENCY', 8, 1, 1000),
    queue: count('OIDC_EXCHANGE_QUEUE', 32, 0, 100_000),
  });
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return Object.freeze({ providers: Object.freeze(providers), httpTimeoutMs: timeout, negativeCacheTtl: negative, exchanges });
}
