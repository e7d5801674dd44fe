import { bearer, createTestApp, TestApp } from './utils/create-test-app';
import { LocalIdp, startLocalIdp } from './utils/local-idp';

const API = '/api/v1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * IdP offline refresh tokens used directly as `Authorization: Bearer`, against a real
 * OpenID Connect provider process on loopback (test/idp/idp.mjs, oidc-provider).
 */
describe('IdP offline tokens as Bearer credentials', () => {
  let idp: LocalIdp;
  let t: TestApp;

  beforeAll(async () => {
    idp = await startLocalIdp({ accessTokenTtl: 3 });
    t = await createTestApp({
      OIDC_PROVIDERS: 'idp',
      ...idp.providerEnv('idp'),
      OFFLINE_TOKEN_NEGATIVE_TTL: '30',
    });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.stop();
  });

  const call = (token: string) => t.http().get(`${API}/auth/credential`).set(bearer(token));
  const refreshGrants = async () => (await idp.stats()).byGrantType.refresh_token ?? 0;

  it('exchanges the token once, creates the user from the IdP subject, then answers from the cache', async () => {
    const { refresh_token } = await idp.obtainOfflineToken('alice', { scope: 'openid profile offline_access' });
    await idp.resetStats();
    const first = await call(refresh_token).expect(200);
    expect(first.body).toMatchObject({ kind: 'user', username: 'alice', roles: ['user'], credential: { type: 'oidc', provider: 'idp' } });
    for (let i = 0; i < 5; i++) await call(refresh_token).expect(200);
    expect(await refreshGrants()).toBe(1);
    // The same identity again (a second token of the same subject) maps to the same user.
    const again = await idp.obtainOfflineToken('alice');
    const second = await call(again.refresh_token).expect(200);
    expect(second.body.userId).toBe(first.body.userId);
    const who = await t.http().get(`${API}/auth/whoami`).set(bearer(refresh_token)).expect(200);
    expect(who.body.identities).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'sub-alice', provider: 'idp' })]));
  });

  it('makes exactly one IdP call for 50 concurrent requests with a new token (single flight)', async () => {
    const { refresh_token } = await idp.obtainOfflineToken('bob');
    await idp.resetStats();
    const results = await Promise.all(Array.from({ length: 50 }, () => call(refresh_token)));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(await refreshGrants()).toBe(1);
  });

  it('refuses a token the IdP revoked once the cached exchange runs out, and remembers the refusal', async () => {
    const { refresh_token } = await idp.obtainOfflineToken('alice');
    await call(refresh_token).expect(200);
    await idp.revokeGrants('sub-alice');
    await call(refresh_token).expect(200); // still cached: the IdP access token has not expired
    await sleep(3200);
    const refused = await call(refresh_token).expect(401);
    expect(refused.body.code).toBe('AUTH_INVALID_TOKEN');
    await idp.resetStats();
    await call(refresh_token).expect(401);
    expect(await refreshGrants()).toBe(0); // negative cache: no second IdP call
  });

  it('garbage and malformed tokens: 401 without a user, 400 for non-ASCII; Latchkey tokens still work', async () => {
    await call('not-a-real-offline-token').expect(401);
    await t.http().get(`${API}/auth/credential`).set('Authorization', Buffer.from('Bearer tök', 'utf8').toString('latin1')).expect(400);
    await t.createUser('carol');
    const own = await t.login('carol');
    await call(own.access_token).expect(200);
  });

  it('when the IdP is down: cached tokens keep working, uncached ones get 503 with Retry-After', async () => {
    const cached = (await idp.obtainOfflineToken('bob')).refresh_token;
    const uncached = (await idp.obtainOfflineToken('bob')).refresh_token;
    await call(cached).expect(200);
    await idp.stop();
    try {
      await call(cached).expect(200);
      const down = await call(uncached).expect(503);
      expect(down.headers['retry-after']).toBeDefined();
      expect(down.body.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await idp.restart();
    }
  });
});
