import { randomBytes } from 'node:crypto';
import { bearer, createTestApp, DEFAULT_PASSWORD, TestApp } from '../utils/create-test-app';
import { LocalIdp, startLocalIdp } from '../utils/local-idp';
import { idpProfile } from '../utils/idp-profiles';

const API = '/api/v1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An unsigned-looking compact JWT with these claims (what an attacker can make up freely). */
function fakeJwt(payload: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}.${randomBytes(32).toString('base64url')}`;
}
/** Shaped like an oidc-provider refresh token (43 base64url characters), known to nobody. */
const opaque = () => randomBytes(32).toString('base64url');

/**
 * Issue 16 §4, played as the attacker: anonymous Bearer values must not make Latchkey spend its
 * client credentials at the IdP. Real IdP process (test/idp/idp.mjs), real HTTP; the IdP counts
 * its token-endpoint requests. Each client address is set with X-Forwarded-For (TRUST_PROXY=true).
 */
describe('attack: unauthenticated IdP amplification through Bearer values', () => {
  let idp: LocalIdp;
  /** The local IdP as it is: opaque offline tokens (OIDC_IDP_OPAQUE_OFFLINE_TOKENS=true). */
  let t: TestApp;
  /** The same IdP configured as a JWT-only (Keycloak-like) provider: the default. */
  let jwtOnly: TestApp;

  beforeAll(async () => {
    idp = await startLocalIdp();
    t = await createTestApp({
      OIDC_PROVIDERS: 'idp',
      ...idp.providerEnv('idp'),
      TRUST_PROXY: 'true',
      OIDC_EXCHANGES_PER_IP: '5',
      OIDC_EXCHANGE_CONCURRENCY: '1',
      OIDC_EXCHANGE_QUEUE: '0',
      RATE_LIMIT_LOGIN_PER_IP: '5',
    });
    const { [`OIDC_IDP_OPAQUE_OFFLINE_TOKENS`]: _opaque, ...keycloakLike } = idp.providerEnv('idp');
    jwtOnly = await createTestApp({ OIDC_PROVIDERS: 'idp', ...keycloakLike, TRUST_PROXY: 'true' });
  });
  afterAll(async () => {
    await t?.close();
    await jwtOnly?.close();
    await idp?.stop();
  });
  beforeEach(() => idp.resetStats());

  const call = (app: TestApp, token: string, from: string) =>
    app.http().get(`${API}/auth/credential`).set(bearer(token)).set('X-Forwarded-For', from);
  const idpCalls = async () => (await idp.stats()).byGrantType.refresh_token ?? 0;

  it('junk that no configured provider can have issued gets 401 and costs the IdP nothing', async () => {
    const junk = [
      ...Array.from({ length: 25 }, () => fakeJwt({ iss: 'https://evil.example.test', sub: 'x', typ: 'Offline' })),
      ...Array.from({ length: 25 }, () => fakeJwt({ sub: 'no-issuer' })),
      ...Array.from({ length: 25 }, () => fakeJwt({ iss: idp.issuer, azp: 'another-client' })),
      ...Array.from({ length: 25 }, () => fakeJwt({ iss: idp.issuer, exp: Math.floor(Date.now() / 1000) - 60 })),
      ...Array.from({ length: 25 }, () => randomBytes(6).toString('hex')), // too short to be anyone's token
      ...Array.from({ length: 25 }, () => `${randomBytes(8).toString('hex')}.${randomBytes(8).toString('hex')}.x`), // JWT-shaped, not JSON
    ];
    for (const [i, token] of junk.entries()) {
      const res = await call(t, token, `203.0.113.${i % 200}`);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('AUTH_INVALID_TOKEN');
    }
    expect(await idpCalls()).toBe(0);
  });

  it('with a JWT-only provider (the default), random opaque values never reach the IdP', async () => {
    for (let i = 0; i < 100; i++) {
      const res = await call(jwtOnly, opaque(), `192.0.2.${i}`);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('AUTH_INVALID_TOKEN');
    }
    expect(await idpCalls()).toBe(0);
  });

  it('a JWT whose iss is the provider reaches it only when typed as a refresh token (Keycloak\'s Refresh/Offline); the IdP refuses it', async () => {
    for (const typ of [undefined, 'Bearer', 'ID']) {
      const res = await call(t, fakeJwt({ iss: idp.issuer, sub: 'forged', typ }), '203.0.113.250');
      expect(res.status).toBe(401);
    }
    expect(await idpCalls()).toBe(0);
    const res = await call(t, fakeJwt({ iss: idp.issuer, sub: 'forged', typ: 'Offline' }), '203.0.113.250');
    expect(res.status).toBe(401);
    expect(await idpCalls()).toBe(1);
  });

  it('a flood of distinct well-formed unknown tokens from one address: bounded IdP calls, then 429 with Retry-After', async () => {
    const from = '198.51.100.7';
    const statuses: number[] = [];
    let limited: { headers: Record<string, string>; body: { code: string } } | undefined;
    for (let i = 0; i < 40; i++) {
      const res = await call(t, opaque(), from);
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual(Array(35).fill(429));
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited!.body.code).toBe('TOO_MANY_REQUESTS');
    expect(await idpCalls()).toBe(5);
  });

  it('each refused exchange is a failed login of that address: its password logins are throttled too, and audited without the token', async () => {
    const from = '198.51.100.8';
    await t.createUser('victim-of-guessing');
    const tokens = Array.from({ length: 5 }, opaque);
    for (const token of tokens) await call(t, token, from).expect(401);
    const login = await t
      .http()
      .post(`${API}/auth/provider/local/token`)
      .set('X-Forwarded-For', from)
      .type('form')
      .send({ username: 'victim-of-guessing', password: DEFAULT_PASSWORD });
    expect(login.status).toBe(429);
    expect(login.headers['retry-after']).toBeDefined();
    // Another address logs in as usual.
    await t
      .http()
      .post(`${API}/auth/provider/local/token`)
      .set('X-Forwarded-For', '198.51.100.9')
      .type('form')
      .send({ username: 'victim-of-guessing', password: DEFAULT_PASSWORD })
      .expect(200);
    await sleep(100); // the audit write follows the answer
    const rows: { details: string; ip: string }[] = await t.dataSource.query(
      `SELECT details, ip FROM ${t.table('audit_events')} WHERE type = 'login.failed' AND ip = '${from}'`,
    );
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(JSON.parse(row.details)).toMatchObject({ provider: 'idp', method: 'oidc-offline-token', reason: 'offline_token_refused' });
    }
    const everything = JSON.stringify(await t.dataSource.query(`SELECT * FROM ${t.table('audit_events')}`));
    for (const token of tokens) expect(everything).not.toContain(token);
  });

  it('a slow IdP: exchanges beyond the concurrency cap get 503 with Retry-After at once', async () => {
    await idp.setTokenDelay(1500);
    try {
      const slow = call(t, opaque(), '198.51.100.20').then((r) => r);
      await sleep(300); // the first exchange holds the only slot
      const started = Date.now();
      const busy = await call(t, opaque(), '198.51.100.21');
      expect(busy.status).toBe(503);
      expect(busy.body.code).toBe('SERVICE_UNAVAILABLE');
      expect(Number(busy.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Date.now() - started).toBeLessThan(1000); // refused, not queued behind the slow IdP
      expect((await slow).status).toBe(401);
    } finally {
      await idp.setTokenDelay(0);
    }
    expect(await idpCalls()).toBe(1);
  });

  it('after all that, a real offline token works from another address, and our own access tokens never reach the IdP', async () => {
    const { refresh_token } = await idp.obtainOfflineToken('alice', { scope: 'openid profile offline_access' });
    await idp.resetStats();
    const ok = await call(t, refresh_token, '192.0.2.200').expect(200);
    expect(ok.body).toMatchObject({ kind: 'user', username: idpProfile().usernameOf({ username: 'alice', email: 'alice@example.test' }), credential: { type: 'oidc', provider: 'idp' } });
    await call(t, refresh_token, '192.0.2.200').expect(200); // cached
    // From the flooded address too, once exchanged: a cached token costs no budget.
    await call(t, refresh_token, '198.51.100.7').expect(200);
    expect(await idpCalls()).toBe(1);
    await t.createUser('carol-amp');
    const own = await t.login('carol-amp');
    await call(t, own.access_token, '192.0.2.201').expect(200);
    expect(await idpCalls()).toBe(1);
  });
});
