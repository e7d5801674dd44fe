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
}

export interface OidcConfig {
  readonly providers: readonly OidcProviderConfig[];
  /** Timeout of every request to an IdP, ms. */
  readonly httpTimeoutMs: number;
  /** Seconds a refused offline token stays refused without asking the IdP again. */
  readonly negativeCacheTtl: number;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * OIDC_PROVIDERS=keycloak,orcid, then for each NAME (upper-cased, `-` → `_`):
 * OIDC_NAME_ISSUER (required, http(s) URL), OIDC_NAME_CLIENT_ID (required),
 * OIDC_NAME_CLIENT_SECRET (required), OIDC_NAME_SCOPES (default "openid profile email"),
 * OIDC_NAME_DISPLAY_NAME, OIDC_NAME_AUDIENCE, OIDC_NAME_USERNAME_CLAIM (preferred_username).
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
      }),
    );
  }
  const timeout = Number(env.OIDC_HTTP_TIMEOUT ?? 5000);
  if (!Number.isInteger(timeout) || timeout < 100 || timeout > 60_000) problems.push('OIDC_HTTP_TIMEOUT: milliseconds, 100 to 60000');
  const negative = Number(env.OFFLINE_TOKEN_NEGATIVE_TTL ?? 30);
  if (!Number.isInteger(negative) || negative < 0 || negative > 3600) problems.push('OFFLINE_TOKEN_NEGATIVE_TTL: seconds, 0 to 3600');
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return Object.freeze({ providers: Object.freeze(providers), httpTimeoutMs: timeout, negativeCacheTtl: negative });
}
