import { createServer, Server, Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Response } from 'supertest';
import { RateLimitStorage } from '../src/common/rate-limit';
import { RedisService } from '../src/common/redis/redis.service';
import { PasswordHasher } from '../src/users/password-hasher';
import { bearer, createTestApp, DEFAULT_PASSWORD, TestApp } from './utils/create-test-app';
import { countArgon2 } from './utils/argon2-counter';

const API = '/api/v1';
const TOKEN = `${API}/auth/provider/local/token`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const login = (t: TestApp, username: string, password = 'wrong password') =>
  t.http().post(TOKEN).type('form').send({ username, password });

/** Our 429: the usual error body, and Retry-After in whole seconds within the window. */
function expectTooMany(res: Response, maxSeconds = 60): number {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_REQUESTS', requestId: expect.any(String) });
  expect(res.body.detail).toBe(res.body.message);
  const seconds = Number(res.headers['retry-after']);
  expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= maxSeconds).toBe(true);
  return seconds;
}

/** What a client can observe of an answer, minus what differs on every request. */
const observable = (res: Response) => ({
  status: res.status,
  retryAfter: res.headers['retry-after'],
  body: { ...res.body, requestId: undefined },
});

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('rate limits: 429 with Retry-After per route class', () => {
  let t: TestApp;
  let aliceToken: string;
  let bobToken: string;

  beforeAll(async () => {
    t = await createTestApp({
      RATE_LIMIT_WINDOW: '60',
      RATE_LIMIT_LOGIN_PER_IP: '3',
      RATE_LIMIT_REFRESH_PER_IP: '2',
      RATE_LIMIT_CREATE_PER_USER: '2',
      RATE_LIMIT_PUBLIC_PER_IP: '3',
    });
    await t.createUser('alice');
    await t.createUser('bob');
    // Two logins: one left for the login test below.
    aliceToken = (await t.login('alice')).access_token;
    bobToken = (await t.login('bob')).access_token;
  });
  afterAll(() => t.close());

  it('login, per client address: past the limit even the right password gets 429, before any check', async () => {
    expect((await login(t, 'nobody-1')).status).toBe(401);
    const res = await login(t, 'alice', DEFAULT_PASSWORD);
    expectTooMany(res);
    expect(res.body.message).toMatch(/^Too many login attempts from this address\. Retry in \d+ s\.$/);
    expectTooMany(await login(t, 'nobody-2'));
    // Other classes have their own buckets.
    await t.http().get(`${API}/auth/credential`).set(bearer(aliceToken)).expect(200);
  });

  it('refresh, per client address', async () => {
    for (let i = 0; i < 2; i++) await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: 'lk_rt_bogus' }).expect(401);
    expectTooMany(await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: 'lk_rt_bogus' }));
  });

  it('credential creation, per user: API keys and deploy tokens share the bucket; another user is not affected', async () => {
    const createKey = (token: string) =>
      t.http().post(`${API}/auth/apikey`).set(bearer(token)).send({ scopes: null, expires_in: null, note: 'rl' });
    await createKey(aliceToken).expect(200);
    await createKey(aliceToken).expect(200);
    expectTooMany(await createKey(aliceToken));
    await t.http().post(`${API}/plugins`).set(bearer(aliceToken)).send({ name: 'rl-plugin' }).expect(201);
    const deploy = await t.http().post(`${API}/plugins/rl-plugin/tokens`).set(bearer(aliceToken)).send({ description: 'ci' });
    expectTooMany(deploy);
    expect(deploy.body.message).toMatch(/^Too many credentials created\./);
    await createKey(bobToken).expect(200);
  });

  it('public endpoints, per client address, one bucket for all of them; unlimited routes stay open', async () => {
    await t.http().get(`${API}/`).expect(200);
    await t.http().post(`${API}/auth/session/revoke`).send({ refresh_token: 'lk_rt_bogus' }).expect(401);
    await t.http().get(`${API}/`).expect(200);
    expectTooMany(await t.http().get(`${API}/`));
    expectTooMany(await t.http().post(`${API}/auth/logout`).send({}));
    await t.http().get(`${API}/auth/whoami`).expect(200);
  });
});

describe('rate limits: RATE_LIMIT_ENABLED=false', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      RATE_LIMIT_ENABLED: 'false',
      RATE_LIMIT_LOGIN_PER_IP: '1',
      RATE_LIMIT_LOGIN_PER_USERNAME: '1',
      RATE_LIMIT_LOGIN_FAILURES: '1',
      RATE_LIMIT_PUBLIC_PER_IP: '1',
    });
    await t.createUser('alice');
  });
  afterAll(() => t.close());

  it('limits nothing', async () => {
    for (let i = 0; i < 3; i++) expect((await login(t, 'alice')).status).toBe(401);
    await t.login('alice');
    for (let i = 0; i < 3; i++) await t.http().get(`${API}/`).expect(200);
  });
});

describe('rate limits: the per-username bucket', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_LOGIN_PER_USERNAME: '3' });
    await t.createUser('alice');
    await t.createUser('bob');
  });
  afterAll(() => t.close());

  it('answers an existing and an unknown username identically, attempt by attempt', async () => {
    const existing: ReturnType<typeof observable>[] = [];
    const unknown: ReturnType<typeof observable>[] = [];
    for (let i = 0; i < 5; i++) {
      existing.push(observable(await login(t, 'alice')));
      unknown.push(observable(await login(t, 'nobody')));
    }
    expect(unknown).toEqual(existing);
    expect(existing.map((r) => r.status)).toEqual([401, 401, 401, 429, 429]);
    expect(existing[3].body.message).toMatch(/^Too many login attempts for this username\. Retry in \d+ s\.$/);
  });

  it('counts every attempt under the normalized name, right password included; other names are not affected', async () => {
    expectTooMany(await login(t, 'alice', DEFAULT_PASSWORD));
    expectTooMany(await login(t, '  ALICE ', DEFAULT_PASSWORD));
    await t.login('bob');
  });
});

describe('rate limits: repeated failed logins slow one username down', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_LOGIN_FAILURES: '3', RATE_LIMIT_LOGIN_MAX_DELAY: '60' });
    await t.createUser('alice');
    await t.createUser('bob');
  });
  afterAll(() => t.close());

  it('after the threshold every attempt waits 1 s, then 2 s…, the same for an unknown name; a success resets it', async () => {
    /** One step for both names at once; returns what each observed. */
    const both = async (alicePassword = 'wrong password') => {
      const [a, g] = await Promise.all([login(t, 'alice', alicePassword), login(t, 'ghost')]);
      return [observable(a), observable(g)];
    };
    for (let i = 0; i < 3; i++) expect((await both()).map((r) => r.status)).toEqual([401, 401]);
    // Locked for 1 s: even the right password is refused, before it is checked.
    let [a, g] = await both(DEFAULT_PASSWORD);
    expect(g).toEqual(a);
    expect([a.status, a.retryAfter]).toEqual([429, '1']);
    expect(a.body.message).toBe('Too many login attempts for this username. Retry in 1 s.');
    // Another username is not slowed down.
    await t.login('bob');

    await sleep(1100);
    expect((await both()).map((r) => r.status)).toEqual([401, 401]); // the 4th failure: 2 s
    [a, g] = await both(DEFAULT_PASSWORD);
    expect(g).toEqual(a);
    expect([a.status, a.retryAfter]).toEqual([429, '2']);

    await sleep(2100);
    await t.login('alice'); // success clears the failures…
    for (let i = 0; i < 2; i++) expect((await login(t, 'alice')).status).toBe(401);
    await t.login('alice'); // …so two new failures are below the threshold again
    // The unknown name never succeeds: still counting, its next failure locks it for 4 s.
    expect((await login(t, 'ghost')).status).toBe(401);
    expect(expectTooMany(await login(t, 'ghost'))).toBe(4);
  });
});

describe('rate limits: bounded password hashing under a login flood', () => {
  let t: TestApp;
  afterEach(async () => {
    jest.restoreAllMocks();
    await t?.close();
  });


  it('50 concurrent logins: never more than HASH_CONCURRENCY argon2 operations at once, and all succeed', async () => {
    t = await createTestApp({ HASH_CONCURRENCY: '2', HASH_QUEUE_LIMIT: '64' });
    await t.createUser('alice');
    const access = (await t.login('alice')).access_token;
    const counter = countArgon2();
    const logins = Array.from({ length: 50 }, (_, i) => login(t, i % 5 === 0 ? `nobody-${i}` : 'alice', i % 5 === 0 ? 'x' : DEFAULT_PASSWORD));
    // A route that hashes nothing answers while the logins queue.
    const other = t.http().get(`${API}/auth/credential`).set(bearer(access));
    const [results, otherRes] = await Promise.all([Promise.all(logins), other]);
    expect(otherRes.status).toBe(200);
    expect(results.map((r) => r.status).sort()).toEqual([...Array(40).fill(200), ...Array(10).fill(401)]);
    expect(counter.calls).toBeGreaterThanOrEqual(50);
    expect(counter.peak).toBeLessThanOrEqual(2);
    expect(counter.peak).toBe(2); // the bound was reached, so the test did test it
    expect(t.app.get(PasswordHasher).load).toMatchObject({ running: 0, queued: 0, limit: 2 });
  });

  it('beyond the queue, 503 SERVICE_UNAVAILABLE with Retry-After; never a 500', async () => {
    t = await createTestApp({ HASH_CONCURRENCY: '1', HASH_QUEUE_LIMIT: '2' });
    await t.createUser('alice');
    const counter = countArgon2();
    const results = await Promise.all(Array.from({ length: 30 }, () => login(t, 'alice', DEFAULT_PASSWORD)));
    const statuses = new Set(results.map((r) => r.status));
    expect([...statuses].sort()).toEqual([200, 503]);
    const refused = results.find((r) => r.status === 503)!;
    expect(refused.body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(refused.headers['retry-after']).toBe('1');
    expect(counter.peak).toBe(1);
  });
});

describe('rate limits: Redis unreachable', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Nothing listens on port 1: every Redis command fails at once.
    t = await createTestApp({ REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_LOGIN_PER_IP: '3' });
    await t.createUser('alice');
  });
  afterAll(() => t.close());

  it('counts in memory: requests succeed, and the limits still hold', async () => {
    for (let i = 0; i < 3; i++) await t.login('alice');
    expectTooMany(await login(t, 'alice', DEFAULT_PASSWORD));
    expect(t.app.get(RateLimitStorage).backend).toBe('memory');
  });
});

const withRedis = process.env.REDIS_URL ? describe : describe.skip;

withRedis('rate limits: shared through Redis (REDIS_URL)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { RATE_LIMIT_LOGIN_PER_IP: '4', RATE_LIMIT_LOGIN_FAILURES: '2' };
    a = await createTestApp(env);
    b = await createTestApp(env, a.db);
    await a.createUser('alice');
    for (const t of [a, b]) await until(() => t.app.get(RateLimitStorage).backend === 'redis', 'Redis');
  });
  afterAll(async () => {
    await b?.close({ keepDatabase: true });
    await a?.close();
  });

  it('two instances share the failed-login delay and the per-address count', async () => {
    expect((await login(a, 'alice')).status).toBe(401);
    expect((await login(a, 'alice')).status).toBe(401);
    // Two failures on A lock the name on B too.
    expect(expectTooMany(await login(b, 'alice', DEFAULT_PASSWORD))).toBe(1);
    // Three hits counted so far from this address (A, A, B): one more anywhere, then 429 on both.
    expect((await login(b, 'nobody')).status).toBe(401);
    expectTooMany(await login(a, 'nobody'));
    expectTooMany(await login(b, 'nobody'));
  });
});

withRedis('rate limits: Redis going away and coming back', () => {
  let t: TestApp;
  let proxy: Server;
  let port: number;
  const sockets = new Set<Socket>();
  const [redisHost, redisPort] = (() => {
    const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    return [url.hostname, Number(url.port || 6379)];
  })();

  /** A TCP proxy in front of Redis that the test can cut and restore. */
  const listen = (p = 0) =>
    new Promise<void>((resolve) => {
      proxy = createServer((client) => {
        const upstream = connect(redisPort, redisHost);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      proxy.listen(p, '127.0.0.1', () => {
        port = (proxy.address() as AddressInfo).port;
        resolve();
      });
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      proxy.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  beforeAll(async () => {
    await listen();
    t = await createTestApp({ REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_LOGIN_PER_IP: '1000' });
    await t.createUser('alice');
    await until(() => t.app.get(RateLimitStorage).backend === 'redis', 'Redis');
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((r) => proxy.close(r));
    for (const s of sockets) s.destroy();
  });

  const redisCount = async () => {
    const redis = t.app.get(RedisService);
    const keys = await redis.client!.keys(redis.key('rl:login:*'));
    expect(keys).toHaveLength(1);
    return Number(await redis.client!.get(keys[0]));
  };

  it('falls back to memory without failing a request, and counts in Redis again once it returns', async () => {
    await t.login('alice');
    expect(await redisCount()).toBe(1);

    await cut();
    for (let i = 0; i < 3; i++) await t.login('alice');
    expect(t.app.get(RateLimitStorage).backend).toBe('memory');

    await listen(port);
    await until(() => t.app.get(RateLimitStorage).backend === 'redis', 'Redis to return');
    await t.login('alice');
    expect(await redisCount()).toBe(2);
  });
});
