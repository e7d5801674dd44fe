import { bearer, createTestApp, TestApp } from './utils/create-test-app';
import { typo } from './utils/typo';

const API = '/api/v1';

/**
 * Access tokens are verified without a database query: with the connection closed, JWT requests
 * still pass the guard, while anything that needs the database answers 503 + Retry-After.
 */
describe('with the database connection closed', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ USER_CACHE_TTL: '1' });
    await t.createUser('alice');
  });
  afterAll(async () => {
    if (!t.dataSource.isInitialized) await t.dataSource.initialize().catch(() => undefined);
    await t.close();
  });

  it('keeps accepting JWTs (stateless path) and answers 503, not 500, where the database is needed', async () => {
    const tokens = await t.login('alice');
    // Warm the user-state cache the way any first request does.
    await t.http().get(`${API}/auth/whoami`).set(bearer(tokens.access_token)).expect(200);
    const key = (
      await t.http().post(`${API}/auth/apikey`).set(bearer(tokens.access_token)).send({ scopes: null, expires_in: null }).expect(200)
    ).body.secret as string;
    const unknownKey = (
      await t.http().post(`${API}/auth/apikey`).set(bearer(tokens.access_token)).send({ scopes: null, expires_in: null }).expect(200)
    ).body.secret as string;
    await t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${key}`).expect(200); // key lookup cached

    await t.dataSource.destroy();
    await new Promise((r) => setTimeout(r, 1100)); // let the cache entry go stale: it is served anyway

    // A guarded route that needs nothing but the verified principal answers normally.
    const ok = await t.http().get(`${API}/auth/credential`).set(bearer(tokens.access_token)).expect(200);
    expect(ok.body).toMatchObject({ kind: 'user', username: 'alice', credential: { type: 'access_token' } });
    // A hot API key is still served from the lookup cache; one never seen needs the database: 503.
    await t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${key}`).expect(200);
    const cold = await t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${unknownKey}`);
    expect(cold.status).toBe(503);
    // Verification still happens: a forged token is a 401.
    await t.http().get(`${API}/auth/credential`).set(bearer(typo(tokens.access_token, tokens.access_token.length - 20))).expect(401);
    // A route that reads the database itself answers 503 + Retry-After.
    const whoami = await t.http().get(`${API}/auth/whoami`).set(bearer(tokens.access_token));
    expect(whoami.status).toBe(503);
    expect(whoami.headers['retry-after']).toBe('5');

    const login = await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'alice', password: 'correct horse battery staple' });
    expect(login.status).toBe(503);
    expect(login.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    const refresh = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.refresh_token });
    expect(refresh.status).toBe(503);
    await t.http().get('/health/ready').expect(503);
    await t.http().get('/health').expect(200);
  });

  it('a user whose state was never cached cannot be vouched for: 503, not a pass', async () => {
    const other = await createTestApp();
    try {
      await other.createUser('bob');
      const tokens = await other.login('bob');
      await other.dataSource.destroy();
      const res = await other.http().get(`${API}/auth/credential`).set(bearer(tokens.access_token));
      expect(res.status).toBe(503);
    } finally {
      await other.dataSource.initialize();
      await other.close();
    }
  });
});
