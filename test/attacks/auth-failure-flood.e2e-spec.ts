/**
 * Attack (issue 16 §5): a scanner sends random well-formed credentials from one address. Every
 * refused credential counts against the client address (IPv6: its /64); past AUTH_FAILURES_PER_IP
 * failures in RATE_LIMIT_WINDOW the address gets 429 with Retry-After on every route, public ones
 * included, and its credentials are no longer looked up; other addresses are unaffected.
 */
import { generateToken } from '../../src/common/auth/token-format';
import { RateLimitStorage } from '../../src/common/rate-limit';
import { bearer, createTestApp, type TestApp } from '../utils/create-test-app';
import { spyOnQueries } from '../utils/query-spy';

const API = '/api/v1';
const BUDGET = 50;
const apikey = (secret: string) => ({ Authorization: `Apikey ${secret}` });
const from = (ip: string) => ({ 'X-Forwarded-For': ip });

function expectTooMany(res: { status: number; headers: Record<string, string>; body: { code?: string } }): number {
  expect({ status: res.status, code: res.body.code }).toEqual({ status: 429, code: 'TOO_MANY_REQUESTS' });
  const retry = Number(res.headers['retry-after']);
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(60);
  return retry;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('attack: a flood of random API keys from one address', () => {
  let t: TestApp;
  let key: string;
  let keyLookups: number;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_FAILURES_PER_IP: String(BUDGET), RATE_LIMIT_WINDOW: '60', TRUST_PROXY: 'true' });
    await t.createUser('alice');
    const alice = await t.login('alice');
    key = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ scopes: null, expires_in: null, note: null, access_tags: null }).expect(200)).body.secret;
    // Count the API-key lookups that reach the database.
    keyLookups = 0;
    spyOnQueries(t.dataSource, (sql) => {
      if (/FROM\s+\S*api_keys\S*\s+WHERE secret_hash/i.test(sql)) keyLookups++;
    });
  });
  afterAll(() => t?.close());

  it(`1,000 random keys: ${BUDGET} × 401, then 429 with Retry-After and no lookup; public routes too; another address unaffected`, async () => {
    const scanner = from('198.51.100.7');
    const statuses: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const res = await t.http().get(`${API}/auth/whoami`).set(scanner).set(apikey(generateToken('personalApiKey')));
      statuses.push(res.status);
      if (i === BUDGET) expectTooMany(res);
      if (i === BUDGET + 1) expect(keyLookups).toBe(BUDGET); // every later key is refused before its lookup
    }
    expect(statuses.slice(0, BUDGET).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(BUDGET).every((s) => s === 429)).toBe(true);
    expect(keyLookups).toBe(BUDGET);

    // Blocked everywhere: the right key, no credential at all, a public route.
    expectTooMany(await t.http().get(`${API}/auth/whoami`).set(scanner).set(apikey(key)));
    expectTooMany(await t.http().get(`${API}/`).set(scanner));
    expectTooMany(await t.http().post(`${API}/auth/provider/local/token`).set(scanner).type('form').send({ username: 'alice', password: 'x' }));

    // Another address: its own budget, its key works, a bad key is an ordinary 401.
    const other = from('198.51.100.8');
    await t.http().get(`${API}/auth/whoami`).set(other).set(apikey(key)).expect(200);
    await t.http().get(`${API}/auth/whoami`).set(other).set(apikey(generateToken('personalApiKey'))).expect(401);
    await t.http().get(`${API}/`).set(other).expect(200);
  });

  it('counts every kind of refused credential (access token, deploy token, session cookie, look-alikes)', async () => {
    const scanner = from('198.51.100.20');
    const junk = [
      () => bearer('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'),
      () => bearer(generateToken('deployToken')),
      () => apikey(generateToken('deployToken')),
      () => ({ Cookie: `lk_session=${generateToken('browserSession')}` }),
      () => apikey('not-a-latchkey-key'),
    ];
    for (let i = 0; i < BUDGET; i++) {
      const res = await t.http().get(`${API}/auth/whoami`).set(scanner).set(junk[i % junk.length]());
      expect(res.status).toBe(401);
    }
    expectTooMany(await t.http().get(`${API}/auth/whoami`).set(scanner).set(apikey(key)));
  });

  it('an IPv6 client counts by its /64: hopping addresses inside it does not reset the budget', async () => {
    for (let i = 0; i < BUDGET; i++) {
      await t.http().get(`${API}/auth/whoami`).set(from(`2001:db8:7:7::${(i + 1).toString(16)}`)).set(apikey(generateToken('personalApiKey'))).expect(401);
    }
    expectTooMany(await t.http().get(`${API}/`).set(from('2001:db8:7:7:ffff::1')));
    await t.http().get(`${API}/`).set(from('2001:db8:7:8::1')).expect(200);
  });

  it('a missing credential or a missing scope is not a failed authentication', async () => {
    const client = from('198.51.100.30');
    for (let i = 0; i < BUDGET + 5; i++) await t.http().get(`${API}/users/me`).set(client).expect(401);
    await t.http().get(`${API}/auth/whoami`).set(client).set(apikey(key)).expect(200);
  });
});

describe('RATE_LIMIT_ENABLED=false turns the failure budget off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ AUTH_FAILURES_PER_IP: '3', RATE_LIMIT_ENABLED: 'false', TRUST_PROXY: 'true' });
  });
  afterAll(() => t?.close());

  it('no 429 after the budget', async () => {
    for (let i = 0; i < 10; i++) await t.http().get(`${API}/auth/whoami`).set(from('198.51.100.40')).set(apikey(generateToken('personalApiKey'))).expect(401);
  });
});

const withRedis = process.env.REDIS_URL ? describe : describe.skip;

withRedis('the failure budget is shared by instances (REDIS_URL)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { AUTH_FAILURES_PER_IP: '10', TRUST_PROXY: 'true' };
    a = await createTestApp(env);
    b = await createTestApp(env, a.db);
    for (const t of [a, b]) await until(() => t.app.get(RateLimitStorage).backend === 'redis', 'Redis');
  });
  afterAll(async () => {
    await b?.close({ keepDatabase: true });
    await a?.close();
  });

  it('failures on A and B add up; each instance refuses from its own next failure on', async () => {
    const scanner = from(`198.51.100.${50 + Math.floor(Math.random() * 100)}`);
    const fail = (t: TestApp) => t.http().get(`${API}/auth/whoami`).set(scanner).set(apikey(generateToken('personalApiKey')));
    for (let i = 0; i < 6; i++) expect((await fail(a)).status).toBe(401);
    for (let i = 0; i < 4; i++) expect((await fail(b)).status).toBe(401);
    // The tenth failure (on B) used up the shared budget: B refuses at once.
    expectTooMany(await fail(b));
    // A learns it from its next failure (one more lookup there), then refuses too.
    expect((await fail(a)).status).toBe(401);
    expectTooMany(await fail(a));
    expectTooMany(await a.http().get(`${API}/`).set(scanner));
  });
});
