import { bearer, createTestApp, TestApp } from '../utils/create-test-app';
import { decodeJwt, LocalIdp, startLocalIdp } from '../utils/local-idp';

const API = '/api/v1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Issue 16 §1 (part): revoke-all and disabling a user end every IdP-derived credential. The
 * attacker holds a stolen IdP offline token of the victim, which the IdP keeps honouring; the
 * victim (or an admin) revokes everything in Latchkey. Real IdP process, real HTTP.
 * OFFLINE_TOKEN_NEGATIVE_TTL=0, so a refusal is never just the memory of an earlier one.
 */
describe('attack: a stolen IdP offline token after revoke-all / disable', () => {
  let idp: LocalIdp;
  let t: TestApp;
  let admin: string;
  const env = (): Record<string, string> => ({ OIDC_PROVIDERS: 'idp', ...idp.providerEnv('idp'), OFFLINE_TOKEN_NEGATIVE_TTL: '0' });

  beforeAll(async () => {
    // Its access tokens carry auth_time, as Keycloak's do: how a never-seen token's age is known.
    idp = await startLocalIdp({ accessTokenAuthTime: true });
    t = await createTestApp(env());
    await t.createUser('root-admin', undefined, ['admin']);
    admin = (await t.login('root-admin')).access_token;
  });
  afterAll(async () => {
    await t?.close();
    await idp?.stop();
  });

  const call = (app: TestApp, token: string) => app.http().get(`${API}/auth/credential`).set(bearer(token));
  const idpCalls = async () => (await idp.stats()).byGrantType.refresh_token ?? 0;
  const adminPost = (path: string) => t.http().post(`${API}/admin/users/${path}`).set(bearer(admin));

  it('admin revoke-all: the cached exchange is refused at once, and the token is never accepted again although the IdP still honours it', async () => {
    const stolen = (await idp.obtainOfflineToken('alice', { scope: 'openid profile offline_access' })).refresh_token;
    const before = await call(t, stolen).expect(200);
    const userId = before.body.userId as string;
    await adminPost(`${userId}/revoke-all`).expect(200);

    const refused = await call(t, stolen).expect(401);
    expect(refused.body.code).toBe('AUTH_INVALID_TOKEN');

    // The IdP would still exchange it (one that rotates refresh tokens has consumed this form already)...
    if (!idp.options.rotateRefreshTokens) expect((await idp.refresh(stolen)).status).toBe(200);
    await idp.resetStats();
    // ...but Latchkey refuses it without asking, here and on a fresh instance of the same database.
    await call(t, stolen).expect(401);
    const restarted = await createTestApp(env(), t.db);
    try {
      await call(restarted, stolen).expect(401);
    } finally {
      await restarted.close({ keepDatabase: true });
    }
    expect(await idpCalls()).toBe(0);

    // The victim logs in at the IdP again and gets a working token.
    const fresh = (await idp.obtainOfflineToken('alice', { scope: 'openid profile offline_access' })).refresh_token;
    const after = await call(t, fresh).expect(200);
    expect(after.body.userId).toBe(userId);
  });

  it('revoke-all also ends a token issued before it that Latchkey never saw (its auth_time predates the revoke-all)', async () => {
    const first = (await idp.obtainOfflineToken('bob')).refresh_token;
    const userId = (await call(t, first).expect(200)).body.userId as string;
    const stolen = await idp.obtainOfflineToken('bob'); // kept for later
    const unseen = stolen.refresh_token;
    expect(typeof decodeJwt((await idp.refresh(unseen)).body.access_token).payload.auth_time).toBe('number');
    await sleep(1100); // auth_time has a one-second grain
    await adminPost(`${userId}/revoke-all`).expect(200);
    await call(t, first).expect(401);
    const res = await call(t, unseen).expect(401);
    expect(res.body.code).toBe('AUTH_INVALID_TOKEN');
    // A token from a login after the revoke-all works.
    const fresh = (await idp.obtainOfflineToken('bob')).refresh_token;
    expect((await call(t, fresh).expect(200)).body.userId).toBe(userId);
  });

  it('disable: refused at once while disabled (cached or not), the audit shows no token', async () => {
    const stolen = (await idp.obtainOfflineToken('alice')).refresh_token;
    const userId = (await call(t, stolen).expect(200)).body.userId as string;
    await adminPost(`${userId}/disable`).expect(200);
    try {
      const res = await call(t, stolen).expect(401);
      expect(res.body.code).toBe('AUTH_USER_INACTIVE');
      const other = (await idp.obtainOfflineToken('alice')).refresh_token;
      await call(t, other).expect(401);
    } finally {
      await adminPost(`${userId}/enable`).expect(200);
    }
    const audit = JSON.stringify(await t.dataSource.query(`SELECT * FROM ${t.table('audit_events')}`));
    expect(audit).not.toContain(stolen);
  });
});

/** Two instances sharing the database and Redis, as behind a load balancer (needs REDIS_URL). */
const withRedis = process.env.REDIS_URL ? describe : describe.skip;

withRedis('attack: a stolen IdP offline token cached on another instance after revoke-all / disable', () => {
  let idp: LocalIdp;
  let a: TestApp;
  let b: TestApp;
  let admin: string;

  beforeAll(async () => {
    idp = await startLocalIdp();
    const env = { OIDC_PROVIDERS: 'idp', ...idp.providerEnv('idp'), OFFLINE_TOKEN_NEGATIVE_TTL: '0' };
    a = await createTestApp(env);
    b = await createTestApp(env, a.db);
    await a.createUser('root-admin', undefined, ['admin']);
    admin = (await a.login('root-admin')).access_token;
  });
  afterAll(async () => {
    await b?.close({ keepDatabase: true });
    await a?.close();
    await idp?.stop();
  });

  const call = (app: TestApp, token: string) => app.http().get(`${API}/auth/credential`).set(bearer(token));
  /** Milliseconds until `app` refuses `token` (fails after 5 s). */
  const refusalDelay = async (app: TestApp, token: string): Promise<number> => {
    const started = Date.now();
    for (;;) {
      const res = await call(app, token);
      if (res.status === 401) return Date.now() - started;
      expect(res.status).toBe(200);
      if (Date.now() - started > 5000) throw new Error('still accepted 5 s after the revocation');
      await sleep(20);
    }
  };

  it('revoke-all on instance A: the exchange cached on instance B is refused within a second, and stays refused', async () => {
    const stolen = (await idp.obtainOfflineToken('alice')).refresh_token;
    const userId = (await call(b, stolen).expect(200)).body.userId as string;
    await call(a, stolen).expect(200); // A has it from Redis or its own exchange
    await a.http().post(`${API}/admin/users/${userId}/revoke-all`).set(bearer(admin)).expect(200);
    await call(a, stolen).expect(401);
    expect(await refusalDelay(b, stolen)).toBeLessThan(1000);
    await idp.resetStats();
    await call(b, stolen).expect(401);
    await call(a, stolen).expect(401);
    expect((await idp.stats()).byGrantType.refresh_token ?? 0).toBe(0);
  });

  it('disable on instance A: instance B refuses its cached exchange within a second', async () => {
    const stolen = (await idp.obtainOfflineToken('bob')).refresh_token;
    const userId = (await call(b, stolen).expect(200)).body.userId as string;
    await a.http().post(`${API}/admin/users/${userId}/disable`).set(bearer(admin)).expect(200);
    try {
      expect(await refusalDelay(b, stolen)).toBeLessThan(1000);
    } finally {
      await a.http().post(`${API}/admin/users/${userId}/enable`).set(bearer(admin)).expect(200);
    }
  });
});
