import type { OidcProviderConfig } from '../../config/oidc.config';
import { jwtHints, offlineTokenCandidates } from './offline-token-shape';

const provider = (name: string, issuer: string, extra: Partial<OidcProviderConfig> = {}) => ({
  config: { name, displayName: name, issuer, clientId: `${name}-client`, clientSecret: 's', scopes: [], usernameClaim: 'sub', opaqueOfflineTokens: false, acceptAccessTokens: false, ...extra },
});
/** A JWT-shaped value; payload objects are Keycloak offline tokens (`typ: Offline`) unless they say otherwise. */
const jwt = (payload: unknown, alg = 'HS256') =>
  `${Buffer.from(JSON.stringify({ alg })).toString('base64url')}.${Buffer.from(JSON.stringify(payload && typeof payload === 'object' && !Array.isArray(payload) ? { typ: 'Offline', ...payload } : payload)).toString('base64url')}.c2ln`;

describe('offlineTokenCandidates', () => {
  const keycloak = provider('keycloak', 'https://sso.example.test/realms/lab');
  const orcid = provider('orcid', 'https://orcid.example.test', { opaqueOfflineTokens: true });
  const google = provider('google', 'https://accounts.example.test', { opaqueOfflineTokens: true, offlineTokenPrefix: '1//' });
  const all = [keycloak, orcid, google];
  const now = 1_800_000_000;

  it('a JWT goes only to the provider of its iss (trailing slash ignored), and only with its azp', () => {
    expect(offlineTokenCandidates(jwt({ iss: 'https://sso.example.test/realms/lab/' }), all, now)).toEqual([keycloak]);
    expect(offlineTokenCandidates(jwt({ iss: keycloak.config.issuer, azp: 'keycloak-client' }), all, now)).toEqual([keycloak]);
    expect(offlineTokenCandidates(jwt({ iss: keycloak.config.issuer, azp: 'someone-else' }), all, now)).toEqual([]);
  });

  it('a publicly signed JWT (an access or ID token) never goes to a token endpoint, unless it says it is a refresh token', () => {
    for (const alg of ['RS256', 'PS384', 'ES256']) {
      expect(offlineTokenCandidates(jwt({ iss: keycloak.config.issuer, typ: undefined }, alg), all, now)).toEqual([]);
      expect(offlineTokenCandidates(jwt({ iss: keycloak.config.issuer, typ: 'Bearer' }, alg), all, now)).toEqual([]);
      expect(offlineTokenCandidates(jwt({ iss: keycloak.config.issuer, typ: 'Offline' }, alg), all, now)).toEqual([keycloak]);
    }
    // Keycloak's own offline and refresh tokens (HS512, typ Offline/Refresh) still go to it.
    expect(offlineTokenCandidates(jwt({ iss: keycloak.config.issuer, typ: 'Offline' }, 'HS512'), all, now)).toEqual([keycloak]);
    expect(offlineTokenCandidates(jwt({ iss: keycloak.config.issuer, typ: 'Refresh' }, 'HS512'), all, now)).toEqual([keycloak]);
    // Any other JWT naming the issuer (alg none, HS-signed junk, an untyped one) goes nowhere.
    for (const alg of ['none', 'HS256']) {
      expect(offlineTokenCandidates(jwt({ iss: keycloak.config.issuer, typ: undefined }, alg), all, now)).toEqual([]);
      expect(offlineTokenCandidates(jwt({ iss: keycloak.config.issuer, typ: 'ID' }, alg), all, now)).toEqual([]);
    }
  });

  it('a JWT with a foreign, missing or non-string iss, or expired, goes nowhere (even to opaque providers)', () => {
    expect(offlineTokenCandidates(jwt({ iss: 'https://evil.example.test' }), all, now)).toEqual([]);
    expect(offlineTokenCandidates(jwt({ sub: 'x' }), all, now)).toEqual([]);
    expect(offlineTokenCandidates(jwt({ iss: 42 }), all, now)).toEqual([]);
    expect(offlineTokenCandidates(jwt({ iss: keycloak.config.issuer, exp: now - 1 }), all, now)).toEqual([]);
    expect(offlineTokenCandidates(jwt({ iss: keycloak.config.issuer, exp: now + 60 }), all, now)).toEqual([keycloak]);
    expect(offlineTokenCandidates('aaaa.bbbb.cccc', all, now)).toEqual([]); // JWT-shaped, not JSON
    expect(offlineTokenCandidates(jwt([1, 2]), all, now)).toEqual([]);
  });

  it('an opaque value goes only to providers that accept opaque tokens (and their prefix), at least 16 characters', () => {
    const opaque = 'Zm9vYmFyYmF6cXV4cXV1eHF1dXg';
    expect(offlineTokenCandidates(opaque, all, now)).toEqual([orcid]);
    expect(offlineTokenCandidates(`1//${opaque}`, all, now)).toEqual([orcid, google]);
    expect(offlineTokenCandidates('short-value', all, now)).toEqual([]);
    expect(offlineTokenCandidates(opaque, [keycloak], now)).toEqual([]); // the default: JWT-only
  });

  it('jwtHints reads alg, iss, azp, typ, iat, exp without verifying', () => {
    expect(jwtHints(jwt({ iss: 'https://a.test/', azp: 'c', iat: 5, exp: 9 }))).toEqual({ alg: 'HS256', iss: 'https://a.test', azp: 'c', typ: 'Offline', iat: 5, exp: 9 });
    expect(jwtHints('not-a-jwt')).toBeUndefined();
  });
});
