/**
 * How the local test IdP behaves, so that the OIDC suites run against IdPs that differ from
 * oidc-provider's defaults. `TEST_IDP_PROFILE` picks one for the whole Jest run (default
 * `oidc-provider`); startLocalIdp() starts the IdP with the profile's options (a suite's own
 * options win) and providerEnv() configures Latchkey for it as an operator would. CI runs the
 * offline-token, browser-session and logout suites once more with TEST_IDP_PROFILE=other.
 *
 *   scope-audience      `aud` of access tokens is the scope string, the client is in `client_id`
 *                       (RFC 9068), no `azp`; OIDC_<P>_AUDIENCE is not set (Auth0/Okta-like)
 *   rotating            every refresh grant returns a new refresh token and consumes the old one
 *   logout-needs-state  RP-initiated logout returns to the client only when a `state` was sent
 *   no-username         no `preferred_username` anywhere; Latchkey uses OIDC_<P>_USERNAME_CLAIM=email
 *   other               all of the above at once
 */
import type { LocalIdpOptions } from './local-idp';

export type IdpProfileName = 'oidc-provider' | 'scope-audience' | 'rotating' | 'logout-needs-state' | 'no-username' | 'other';

export interface IdpProfile {
  readonly name: IdpProfileName;
  /** Options for startLocalIdp (a suite's own options override them). */
  readonly idp: LocalIdpOptions;
  /** Latchkey provider settings (OIDC_<P>_ suffix → value), added by providerEnv(). */
  readonly provider: Record<string, string>;
  /** The Latchkey username an IdP user gets on first login. */
  usernameOf(user: { username: string; email?: string }): string;
}

const byUsername = (user: { username: string }) => user.username;
/** Latchkey keeps letters, digits, ".", "_" and "-" of a claim ("alice@example.test" → "alice-example.test"). */
const byEmail = (user: { username: string; email?: string }) => (user.email ?? `${user.username}@example.test`).replace(/[^A-Za-z0-9._-]/g, '-');

const PROFILES: Record<IdpProfileName, IdpProfile> = {
  'oidc-provider': { name: 'oidc-provider', idp: {}, provider: {}, usernameOf: byUsername },
  'scope-audience': { name: 'scope-audience', idp: { audienceStyle: 'scope' }, provider: {}, usernameOf: byUsername },
  rotating: { name: 'rotating', idp: { rotateRefreshTokens: true }, provider: {}, usernameOf: byUsername },
  'logout-needs-state': { name: 'logout-needs-state', idp: { logoutNeedsState: true }, provider: {}, usernameOf: byUsername },
  'no-username': { name: 'no-username', idp: { preferredUsername: false }, provider: { USERNAME_CLAIM: 'email' }, usernameOf: byEmail },
  other: {
    name: 'other',
    idp: { audienceStyle: 'scope', rotateRefreshTokens: true, logoutNeedsState: true, preferredUsername: false },
    provider: { USERNAME_CLAIM: 'email' },
    usernameOf: byEmail,
  },
};

/** The profile of this run (TEST_IDP_PROFILE); an unknown name fails loudly. */
export function idpProfile(): IdpProfile {
  const name = (process.env.TEST_IDP_PROFILE || 'oidc-provider') as IdpProfileName;
  const profile = PROFILES[name];
  if (!profile) throw new Error(`TEST_IDP_PROFILE=${name}: expected one of ${Object.keys(PROFILES).join(', ')}`);
  return profile;
}

/** The profile by name (for a suite that tests one behaviour whatever the run's profile). */
export function idpProfileNamed(name: IdpProfileName): IdpProfile {
  return PROFILES[name];
}
