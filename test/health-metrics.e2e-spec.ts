import { CacheStats } from '../src/common/cache/cache-stats';
import { bearer, createTestApp, TestApp } from './utils/create-test-app';
import { typo } from './utils/typo';

const API = '/api/v1';
const METRICS_TOKEN = 'prometheus-scrape-token-0123456789abcdef';

/** Sums the samples of one metric whose labels include every given label. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const body = line.slice(name.length);
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

describe('health endpoints', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('/health/live and /health answer without touching anything', async () => {
    expect((await t.http().get('/health/live').expect(200)).body).toEqual({ status: 'ok' });
    expect((await t.http().get('/health').expect(200)).body).toEqual({ status: 'ok' });
    await t.http().get(`${API}/health/live`).expect(404); // outside the API prefix
  });

  it('/health/ready reports the database (and Redis when configured) in the terminus shape', async () => {
    const res = await t.http().get('/health/ready').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } }, error: {}, details: { database: { status: 'up' } } });
    if (process.env.REDIS_URL) expect(res.body.details.redis).toEqual({ status: 'up' });
    else expect(res.body.details.redis).toBeUndefined();
  });

  it('/health/ready is 503 with Retry-After and the failing check when the database is gone; liveness stays 200', async () => {
    const other = await createTestApp();
    try {
      await other.dataSource.destroy();
      const res = await other.http().get('/health/ready').expect(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', detail: { status: 'error', error: { database: { status: 'down' } } } });
      await other.http().get('/health/live').expect(200);
    } finally {
      await other.dataSource.initialize();
      await other.close();
    }
  });

  it('an unreachable IdP or Redis makes the instance degraded, not unready (200)', async () => {
    const degraded = await createTestApp({
      OIDC_PROVIDERS: 'ghost',
      OIDC_GHOST_ISSUER: 'http://127.0.0.1:9', // discard port: nothing listens
      OIDC_GHOST_CLIENT_ID: 'latchkey',
      OIDC_GHOST_CLIENT_SECRET: 'ghost-client-secret',
      REDIS_URL: 'redis://127.0.0.1:9',
    });
    try {
      const started = Date.now();
      const res = await degraded.http().get('/health/ready').expect(200);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(res.body).toMatchObject({
        status: 'degraded',
        info: { database: { status: 'up' } },
        error: { redis: { status: 'down' }, 'idp:ghost': { status: 'down', message: expect.stringContaining('discovery unreachable') } },
      });
      // Meanwhile passwords and tokens work as ever.
      await degraded.createUser('dora');
      const tokens = await degraded.login('dora');
      await degraded.http().get(`${API}/auth/whoami`).set(bearer(tokens.access_token)).expect(200);
    } finally {
      await degraded.close();
    }
  });
});

describe('/metrics', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN });
  });
  afterAll(() => t?.close());

  const scrape = async () => (await t.http().get('/metrics').set(bearer(METRICS_TOKEN)).expect(200)).text;

  it('is off (404) without METRICS_TOKEN, and needs exactly that token when on', async () => {
    const off = await createTestApp();
    try {
      await off.http().get('/metrics').expect(404);
    } finally {
      await off.close();
    }
    const missing = await t.http().get('/metrics').expect(401);
    expect(missing.headers['www-authenticate']).toContain('realm="metrics"');
    await t.http().get('/metrics').set(bearer(METRICS_TOKEN + 'x')).expect(401);
    await t.http().get('/metrics').set('Authorization', `Apikey ${METRICS_TOKEN}`).expect(401);
    const ok = await t.http().get('/metrics').set(bearer(METRICS_TOKEN)).expect(200);
    expect(ok.headers['content-type']).toMatch(/^text\/plain;/);
    expect(ok.headers['content-type']).toContain('version=0.0.4');
    expect(ok.headers['cache-control']).toBe('no-store');
  });

  it('counts requests by route pattern, method, status and credential kind, and auth failures by reason', async () => {
    await t.createUser('mia');
    const tokens = await t.login('mia');
    const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(tokens.access_token)).send({ scopes: null, expires_in: null }).expect(200)).body;
    const before = await scrape();
    const count = (text: string, labels: Record<string, string>) => sample(text, 'latchkey_http_request_duration_seconds_count', labels);
    const failures = (text: string, labels: Record<string, string>) => sample(text, 'latchkey_auth_failures_total', labels);

    for (let i = 0; i < 3; i++) await t.http().get(`${API}/auth/whoami`).set(bearer(tokens.access_token)).expect(200);
    await t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${key.secret}`).expect(200);
    await t.http().get(`${API}/api-keys`).set(bearer(tokens.access_token)).expect(200);
    await t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${typo(key.secret)}`).expect(401);
    await t.http().get(`${API}/auth/credential`).expect(401);
    await t.http().get(`${API}/no/such/${'x'.repeat(20)}`).expect(404);
    await t.http().get(`${API}/auth/credential`).set('Authorization', 'Token nope').expect(400);
    const after = await scrape();

    const delta = (labels: Record<string, string>) => count(after, labels) - count(before, labels);
    expect(delta({ method: 'GET', route: '/api/v1/auth/whoami', status: '200', credential: 'access_token' })).toBe(3);
    expect(delta({ route: '/api/v1/auth/credential', status: '200', credential: 'api_key' })).toBe(1);
    expect(delta({ route: '/api/v1/api-keys', status: '200', credential: 'access_token' })).toBe(1);
    expect(delta({ route: '/api/v1/auth/credential', status: '401', credential: 'api_key' })).toBe(1);
    expect(delta({ route: '/api/v1/auth/credential', status: '401', credential: 'none' })).toBe(1);
    expect(delta({ route: 'unmatched', status: '404' })).toBe(1);
    const fdelta = (labels: Record<string, string>) => failures(after, labels) - failures(before, labels);
    expect(fdelta({ reason: 'AUTH_INVALID_TOKEN', credential: 'api_key' })).toBe(1);
    expect(fdelta({ reason: 'AUTH_REQUIRED', credential: 'none' })).toBe(1);
    expect(fdelta({ reason: 'MALFORMED_AUTHORIZATION', credential: 'invalid' })).toBe(1);
    // The histogram has buckets; durations are seconds.
    expect(after).toMatch(/latchkey_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/v1\/auth\/whoami"/);
    // Junk URLs never become labels; the route pattern does, not the id in the path.
    expect(after).not.toContain('xxxxxxxxxxxxxxxxxxxx');
    await t.http().delete(`${API}/api-keys/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`).set(bearer(tokens.access_token));
    expect(await scrape()).toContain('route="/api/v1/api-keys/:id"');
  });

  it('exposes the cache counters of CacheStats and the default process metrics, and no secret', async () => {
    const tokens = await t.login('mia');
    // The caches fill CacheStats (process-wide); the scrape copies whatever is there.
    const counts = CacheStats.for('metrics-test-cache');
    counts.hits += 5;
    counts.misses += 2;
    const text = await scrape();
    expect(sample(text, 'latchkey_cache_hits_total', { cache: 'metrics-test-cache' })).toBe(counts.hits);
    expect(sample(text, 'latchkey_cache_misses_total', { cache: 'metrics-test-cache' })).toBe(counts.misses);
    expect(text).toContain('# TYPE latchkey_idp_exchange_duration_seconds histogram');
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    for (const secret of [METRICS_TOKEN, tokens.access_token, tokens.refresh_token, 'correct horse']) expect(text).not.toContain(secret);
  });
});
