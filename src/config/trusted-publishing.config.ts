import { ConfigError } from './env.validation';

/**
 * Whose claim layout a CI issuer's ID tokens follow (src/trusted-publishing/ci-claims.ts):
 * GitHub's, GitLab's, or `custom`, with the claim names the operator gives.
 */
export type CiClaimLayout = 'github' | 'gitlab' | 'custom';

/** For a `custom` issuer: which claim says what (TRUSTED_ISSUER_<NAME>_*_CLAIM). */
export interface CustomClaimNames {
  readonly repository: string;
  readonly workflow: string;
  /** Unset: publishers of this issuer cannot name a ref pattern. */
  readonly ref?: string;
  readonly environment?: string;
  /** An immutable id of the repository, pinned at the first exchange; unset: nothing is pinned. */
  readonly repositoryId?: string;
}

/** A CI system whose OIDC ID tokens may be exchanged for deploy tokens. */
export interface TrustedIssuerConfig {
  /** What publishers name it by (`github`, `gitlab`, or an operator's name such as `gitlab-corp`). */
  readonly name: string;
  readonly displayName: string;
  /** The `iss` of its ID tokens; discovery and JWKS are fetched from there. */
  readonly issuer: string;
  readonly claims: CiClaimLayout;
  /** With `claims: custom`: the claim names. */
  readonly claimNames?: CustomClaimNames;
}

/** Trusted publishing (src/trusted-publishing). */
export interface TrustedPublishingConfig {
  /** Empty: trusted publishing is off (the exchange answers 404). */
  readonly issuers: readonly TrustedIssuerConfig[];
  /** The `aud` a CI job must ask its ID token for. */
  readonly audience: string;
  /** Lifetime of an exchanged deploy token, seconds. */
  readonly tokenTtl: number;
  /** Tolerance for `exp`, `nbf` and `iat`, seconds. */
  readonly clockSkew: number;
}

/** The public CI services, ready to use by name. */
export const CI_PRESETS: Readonly<Record<'github' | 'gitlab', TrustedIssuerConfig>> = Object.freeze({
  github: Object.freeze({ name: 'github', displayName: 'GitHub Actions', issuer: 'https://token.actions.githubusercontent.com', claims: 'github' as const }),
  gitlab: Object.freeze({ name: 'gitlab', displayName: 'GitLab CI/CD', issuer: 'https://gitlab.com', claims: 'gitlab' as const }),
});

/** The longest an exchanged deploy token may live, whatever TRUSTED_PUBLISHING_TOKEN_TTL says. */
export const MAX_TRUSTED_TOKEN_TTL = 3600;

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * TRUSTED_PUBLISHING_ISSUERS (default `github,gitlab`; `none` turns trusted publishing off): the
 * CI issuers whose ID tokens are accepted. For each NAME (upper-cased, `-` → `_`):
 * TRUSTED_ISSUER_NAME_URL (the issuer; required unless NAME is a preset, whose URL it replaces,
 * e.g. for GitHub Enterprise Server), TRUSTED_ISSUER_NAME_CLAIMS (`github` or `gitlab`: whose claim
 * layout its tokens follow; a preset's own by default; `custom`: any other CI, whose claim names
 * TRUSTED_ISSUER_NAME_REPOSITORY_CLAIM and _WORKFLOW_CLAIM (required), _REF_CLAIM,
 * _ENVIRONMENT_CLAIM and _REPOSITORY_ID_CLAIM (optional) give), TRUSTED_ISSUER_NAME_DISPLAY_NAME.
 * TRUSTED_PUBLISHING_AUDIENCE (default: the issuer Latchkey signs as, PUBLIC_URL or "latchkey"),
 * TRUSTED_PUBLISHING_TOKEN_TTL (seconds, default 900, 60 to 3600 and at most PLUGIN_TOKEN_MAX_LIFETIME).
 */
export function loadTrustedPublishingConfig(env: NodeJS.ProcessEnv, defaultAudience: string, tokenMaxLifetime?: number): TrustedPublishingConfig {
  const problems: string[] = [];
  const list = env.TRUSTED_PUBLISHING_ISSUERS?.trim() || 'github,gitlab';
  const names = list === 'none' ? [] : list.split(',').map((n) => n.trim()).filter(Boolean);
  const issuers: TrustedIssuerConfig[] = [];
  for (const name of names) {
    if (!NAME.test(name)) {
      problems.push(`TRUSTED_PUBLISHING_ISSUERS: "${name.slice(0, 64)}" must be lower-case letters, digits, "-" or "_"`);
      continue;
    }
    const prefix = `TRUSTED_ISSUER_${name.toUpperCase().replace(/-/g, '_')}_`;
    const get = (key: string) => env[prefix + key]?.trim() || undefined;
    const preset = (CI_PRESETS as Record<string, TrustedIssuerConfig | undefined>)[name];
    const url = get('URL')?.replace(/\/+$/, '') ?? preset?.issuer;
    const claims = get('CLAIMS') ?? preset?.claims;
    if (!url || !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(url)) problems.push(`${prefix}URL: required, an http(s) URL (the issuer of the CI's ID tokens)`);
    if (claims !== 'github' && claims !== 'gitlab' && claims !== 'custom') problems.push(`${prefix}CLAIMS: github, gitlab or custom (whose ID-token claims the CI sends)`);
    if (issuers.some((i) => i.name === name || i.issuer === url)) problems.push(`TRUSTED_PUBLISHING_ISSUERS: "${name}" or its URL is listed twice`);
    let claimNames: CustomClaimNames | undefined;
    if (claims === 'custom') {
      const claim = (key: string, required: boolean) => {
        const value = get(`${key}_CLAIM`);
        if (value === undefined ? required : !/^[\x21-\x7e]{1,128}$/.test(value)) problems.push(`${prefix}${key}_CLAIM: ${required ? 'required with CLAIMS=custom, ' : ''}the name of a claim`);
        return value;
      };
      claimNames = Object.freeze({
        repository: claim('REPOSITORY', true)!,
        workflow: claim('WORKFLOW', true)!,
        ref: claim('REF', false),
        environment: claim('ENVIRONMENT', false),
        repositoryId: claim('REPOSITORY_ID', false),
      });
    }
    if (!url || (claims !== 'github' && claims !== 'gitlab' && claims !== 'custom')) continue;
    issuers.push(Object.freeze({ name, displayName: get('DISPLAY_NAME') ?? preset?.displayName ?? name, issuer: url, claims, ...(claimNames ? { claimNames } : {}) }));
  }
  const ttl = Number(env.TRUSTED_PUBLISHING_TOKEN_TTL?.trim() || 900);
  const maxTtl = Math.min(MAX_TRUSTED_TOKEN_TTL, tokenMaxLifetime ?? MAX_TRUSTED_TOKEN_TTL);
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > maxTtl) {
    problems.push(`TRUSTED_PUBLISHING_TOKEN_TTL: seconds, 60 to ${maxTtl}${maxTtl < MAX_TRUSTED_TOKEN_TTL ? ' (PLUGIN_TOKEN_MAX_LIFETIME)' : ''}`);
  }
  const audience = env.TRUSTED_PUBLISHING_AUDIENCE?.trim() || defaultAudience;
  if (!/^[\x21-\x7e]{1,255}$/.test(audience)) problems.push('TRUSTED_PUBLISHING_AUDIENCE: 1 to 255 visible ASCII characters');
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return Object.freeze({ issuers: Object.freeze(issuers), audience, tokenTtl: ttl, clockSkew: 60 });
}
