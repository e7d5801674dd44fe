import type { OidcProviderConfig } from '../../config/oidc.config';
import { OidcClient } from './oidc-client';

const config = (audience?: string): OidcProviderConfig => ({
  name: 'idp',
  displayName: 'IdP',
  issuer: 'https://idp.example.test',
  clientId: 'latchkey',
  clientSecret: 's',
  scopes: ['openid'],
  audience,
  usernameClaim: 'preferred_username',
  opaqueOfflineTokens: false,
  acceptAccessTokens: false,
});
/** The audience rule of verifyAccessToken, on claims alone (the signature part needs a JWKS). */
const isForUs = (audience: string | undefined, claims: Record<string, unknown>): boolean =>
  (new OidcClient(config(audience), 1000) as unknown as { isForUs(c: Record<string, unknown>): boolean }).isForUs(claims);

describe('which IdP access tokens are meant for Latchkey', () => {
  it('without OIDC_<P>_AUDIENCE: the token must name our client in client_id (RFC 9068), azp or aud', () => {
    expect(isForUs(undefined, { aud: 'openid offline_access api:read', client_id: 'latchkey' })).toBe(true); // scope string in aud
    expect(isForUs(undefined, { aud: 'account', azp: 'latchkey' })).toBe(true); // Keycloak
    expect(isForUs(undefined, { aud: ['latchkey', 'other'] })).toBe(true);
    expect(isForUs(undefined, { aud: 'urn:latchkey:api', client_id: 'another-client' })).toBe(false);
    expect(isForUs(undefined, { aud: 'openid', azp: 'another-client' })).toBe(false);
    expect(isForUs(undefined, {})).toBe(false);
  });

  it('with OIDC_<P>_AUDIENCE: aud must name it, whoever the client', () => {
    expect(isForUs('urn:latchkey:api', { aud: ['urn:latchkey:api'], client_id: 'another-client' })).toBe(true);
    expect(isForUs('urn:latchkey:api', { aud: 'urn:other-api', client_id: 'latchkey', azp: 'latchkey' })).toBe(false);
  });
});
