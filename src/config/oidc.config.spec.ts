import { loadOidcConfig } from './oidc.config';

const provider = {
  OIDC_PROVIDERS: 'keycloak',
  OIDC_KEYCLOAK_ISSUER: 'https://sso.example.test/realms/lab',
  OIDC_KEYCLOAK_CLIENT_ID: 'latchkey',
  OIDC_KEYCLOAK_CLIENT_SECRET: 's3cret',
};

describe('OIDC offline-token settings', () => {
  it('defaults: JWT-only offline tokens, 20 exchanges per address (high under NODE_ENV=test), 8 at once, 32 waiting', () => {
    const c = loadOidcConfig({ ...provider, NODE_ENV: 'production' }, 'local');
    expect(c.providers[0]).toMatchObject({ opaqueOfflineTokens: false, offlineTokenPrefix: undefined, acceptAccessTokens: false });
    expect(loadOidcConfig({ ...provider, OIDC_KEYCLOAK_ACCEPT_ACCESS_TOKENS: 'TRUE' }, 'local').providers[0].acceptAccessTokens).toBe(true);
    expect(c.exchanges).toEqual({ perIp: 20, concurrency: 8, queue: 32 });
    expect(loadOidcConfig({ NODE_ENV: 'test' }, 'local').exchanges.perIp).toBe(1_000_000);
  });

  it('reads the per-provider opaque setting and prefix, and the limits', () => {
    const c = loadOidcConfig(
      { ...provider, OIDC_KEYCLOAK_OPAQUE_OFFLINE_TOKENS: 'true', OIDC_KEYCLOAK_OFFLINE_TOKEN_PREFIX: '1//', OIDC_EXCHANGES_PER_IP: '3', OIDC_EXCHANGE_CONCURRENCY: '2', OIDC_EXCHANGE_QUEUE: '0' },
      'local',
    );
    expect(c.providers[0]).toMatchObject({ opaqueOfflineTokens: true, offlineTokenPrefix: '1//' });
    expect(c.exchanges).toEqual({ perIp: 3, concurrency: 2, queue: 0 });
  });

  it.each([
    ['OIDC_KEYCLOAK_OPAQUE_OFFLINE_TOKENS', 'sometimes'],
    ['OIDC_KEYCLOAK_ACCEPT_ACCESS_TOKENS', 'yes'],
    ['OIDC_KEYCLOAK_OFFLINE_TOKEN_PREFIX', '1//'], // without OPAQUE_OFFLINE_TOKENS=true
    ['OIDC_EXCHANGES_PER_IP', '0'],
    ['OIDC_EXCHANGE_CONCURRENCY', 'many'],
    ['OIDC_EXCHANGE_QUEUE', '-1'],
  ])('refuses %s=%j, naming it', (name, value) => {
    expect(() => loadOidcConfig({ ...provider, [name]: value }, 'local')).toThrow(new RegExp(`^Invalid configuration:\\n.*${name}`, 's'));
  });
});
