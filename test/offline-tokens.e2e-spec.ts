import { bearer, createTestApp, TestApp } from './utils/create-test-app';
import { LocalIdp, startLocalIdp } from './utils/local-idp';
import { idpProfile } from './utils/idp-profiles';

const API = '/api/v1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const METRICS_TOKEN = 'offline-tokens-suite-metrics-token-0123456789';

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
      METRICS_TOKEN,
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
    expect(first.body).toMatchObject({ kind: 'user', username: idpProfile().usernameOf({ username: 'alice', email: 'alice@example.test' }), roles: ['user'], credential: { type: 'oidc', provider: 'idp' } });
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

  it('IdP down, then back: cached bearers work until their exchange runs out, then 503 (not 401); passwords unaffected; readiness degraded; recovers without a restart', async () => {
    const ready = () => t.http().get('/health/ready');
    /** Readiness reuses an IdP probe for 5 s when up (a down IdP is probed again after 1 s): wait for it to see the change. */
    const readinessSays = async (idpStatus: 'up' | 'down', withinMs: number) => {
      const deadline = Date.now() + withinMs;
      for (;;) {
        const res = await ready();
        expect(res.status).toBe(200); // an IdP never makes the instance unready
        if (res.body.details['idp:idp']?.status === idpStatus) return res.body;
        if (Date.now() > deadline) throw new Error(`readiness still says ${JSON.stringify(res.body)}`);
        await sleep(250);
      }
    };
    const exchanges = async (outcome: string) => {
      const text = (await t.http().get('/metrics').set(bearer(METRICS_TOKEN)).expect(200)).text;
      const line = text.split('\n').find((l) => l.startsWith('latchkey_idp_exchange_duration_seconds_count{') && l.includes('provider="idp"') && l.includes('grant="refresh_token"') && l.includes(`outcome="${outcome}"`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    await t.createUser('erin');
    const password = await t.login('erin');
    const cached = (await idp.obtainOfflineToken('alice')).refresh_token;
    await call(cached).expect(200); // exchanged now; the IdP access token lives 3 s
    const exchangedAt = Date.now();
    const unavailableBefore = await exchanges('unavailable');

    await idp.stop();
    try {
      await call(cached).expect(200);
      const degraded = await readinessSays('down', 5500);
      expect(degraded).toMatchObject({ status: 'degraded', info: { database: { status: 'up' } } });
      // Everything that does not need the IdP goes on.
      await t.login('erin');
      await t.http().get(`${API}/auth/whoami`).set(bearer(password.access_token)).expect(200);
      // Past the cached exchange, the token needs the IdP: 503 with Retry-After, so clients retry
      // rather than drop a credential that is still good.
      await sleep(Math.max(0, exchangedAt + 3200 - Date.now()));
      const expired = await call(cached).expect(503);
      expect(expired.headers['retry-after']).toBeDefined();
      expect(expired.body.code).toBe('SERVICE_UNAVAILABLE');
      expect(await exchanges('unavailable')).toBeGreaterThan(unavailableBefore);
    } finally {
      await idp.restart();
    }
    // Back: readiness says so within a second or two (a down result is reused for 1 s, and the
    // first probe after the restart may meet a stale pooled connection: it is retried at once).
    expect(await readinessSays('up', 2000)).toMatchObject({ status: 'ok' });
    // The same Latchkey process exchanges again (the restarted IdP forgot its old tokens,
    // so the proof is a token it issued after coming back).
    const okBefore = await exchanges('ok');
    const fresh = (await idp.obtainOfflineToken('alice')).refresh_token;
    const back = await call(fresh).expect(200);
    expect(back.body).toMatchObject({ kind: 'user', username: idpProfile().usernameOf({ username: 'alice', email: 'alice@example.test' }), credential: { type: 'oidc', provider: 'idp' } });
    expect(await exchanges('ok')).toBe(okBefore + 1);
  });
});
