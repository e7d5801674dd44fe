import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { bearer, createTestApp, DEFAULT_PASSWORD, TestApp } from './utils/create-test-app';
import { createTestDatabase, TestDatabase } from './utils/test-database';

const API = '/api/v1';
const onPostgres = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '');
/** A correctness bound against hangs: every request gets its answer within this, database or not. */
const BOUND_MS = 5000;

/**
 * A loopback TCP proxy of this test's own between the app and PostgreSQL.
 * - `cut()`: every connection is destroyed and new ones are refused (the database host is down);
 * - `blackhole()`: connections stay open and new ones are accepted, but nothing passes any more
 *   (a network partition: no reset, only silence);
 * - `restore()`: traffic flows again on the same port.
 */
class DbProxy {
  private server?: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private silent = false;
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      if (this.silent) {
        client.on('error', () => undefined);
        this.pairs.add([client, client]);
        return;
      }
      const upstream = createConnection({ host: this.host, port: this.targetPort });
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', () => resolve()));
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    await closed;
  }

  blackhole(): void {
    this.silent = true;
    for (const [a, b] of this.pairs) {
      a.unpipe();
      b.unpipe();
      a.pause();
      b.pause();
    }
  }

  async restore(): Promise<void> {
    await this.cut(); // a partition ends with the old connections gone (their state is lost)
    this.silent = false;
    await this.start();
  }
}

interface Timed {
  status: number;
  ms: number;
  retryAfter?: string;
  code?: string;
}

/**
 * The database unreachable, for real: the app talks to PostgreSQL through DbProxy, and the proxy
 * is cut. Access tokens keep working (verified without the database); logins, refreshes and API
 * key lookups (uncached: CREDENTIAL_CACHE_TTL=0) answer 503 with Retry-After, never 500, each
 * within BOUND_MS; readiness says 503; when the proxy comes back, everything recovers without
 * a restart. PostgreSQL only (SQLite has no connection to cut).
 */
(onPostgres ? describe : describe.skip)('database unreachable (PostgreSQL behind a TCP proxy)', () => {
  let db: TestDatabase;
  let proxy: DbProxy;
  let t: TestApp;
  let tokens: { access_token: string; refresh_token: string };
  let apiKey: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const target = new URL(db.env.DATABASE_URL);
    proxy = new DbProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const viaProxy = new URL(db.env.DATABASE_URL);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    t = await createTestApp({ DATABASE_URL: viaProxy.href, CREDENTIAL_CACHE_TTL: '0', USER_CACHE_TTL: '300' }, db);
    await t.createUser('alice');
  });
  afterAll(async () => {
    await proxy?.restore();
    await t?.close();
    await proxy?.cut();
  });

  const timed = async (req: () => PromiseLike<{ status: number; headers: Record<string, string>; body: { code?: string } }>): Promise<Timed> => {
    const started = performance.now();
    const res = await req();
    return { status: res.status, ms: Math.round(performance.now() - started), retryAfter: res.headers['retry-after'], code: res.body?.code };
  };
  const login = () => timed(() => t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'alice', password: DEFAULT_PASSWORD }));
  const refresh = () => timed(() => t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.refresh_token }));
  const withKey = () => timed(() => t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${apiKey}`));
  const withJwt = () => timed(() => t.http().get(`${API}/auth/credential`).set(bearer(tokens.access_token)));
  const ready = () => timed(() => t.http().get('/health/ready'));

  /** The slowest answer of each kind during the current fault, for the report. */
  let slowest: Record<string, Timed> = {};

  /** What every request must do while the database is away. */
  const expectUnavailable = (what: string, r: Timed) => {
    if (!slowest[what] || slowest[what].ms < r.ms) slowest[what] = r;
    expect({ what, status: r.status, code: r.code, retryAfter: r.retryAfter }).toEqual({ what, status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '5' });
    expect({ what, withinBound: r.ms < BOUND_MS, ms: r.ms }).toEqual({ what, withinBound: true, ms: r.ms });
  };

  async function warmUp(): Promise<void> {
    tokens = await t.login('alice');
    apiKey = (await t.http().post(`${API}/auth/apikey`).set(bearer(tokens.access_token)).send({ scopes: null, expires_in: null }).expect(200)).body.secret;
    expect((await withJwt()).status).toBe(200); // the user's state is now cached (USER_CACHE_TTL)
    expect((await withKey()).status).toBe(200);
  }

  async function expectRecovery(): Promise<number> {
    const started = performance.now();
    let last: Timed | undefined;
    while (performance.now() - started < 15_000) {
      last = await login();
      expect(last.status).not.toBe(500);
      if (last.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const recoveredMs = Math.round(performance.now() - started);
    expect(last?.status).toBe(200);
    // The refresh token that failed during the outage was not consumed: it works now.
    expect((await refresh()).status).toBe(200);
    expect((await withKey()).status).toBe(200);
    expect((await ready()).status).toBe(200);
    return recoveredMs;
  }

  it('cut (connections reset, new ones refused): JWTs work, the rest is 503 + Retry-After within the bound; recovers on its own', async () => {
    await warmUp();
    await proxy.cut();
    slowest = {};
    for (let round = 0; round < 2; round++) {
      const jwt = await withJwt();
      expect({ round, jwt: jwt.status }).toEqual({ round, jwt: 200 });
      expectUnavailable('login', await login());
      expectUnavailable('refresh', await refresh());
      expectUnavailable('api key', await withKey());
      expectUnavailable('readiness', await ready());
    }
    expect((await t.http().get('/health/live')).status).toBe(200);
    await proxy.restore();
    const recoveredMs = await expectRecovery();
    report('cut', slowest, recoveredMs);
  });

  it('blackhole (a partition: silence, no reset): the same, bounded by the connect and query timeouts', async () => {
    await warmUp();
    // Several connections open in the pool: after the partition, requests meet them first.
    const burst = await Promise.all(Array.from({ length: 6 }, () => login()));
    expect(burst.map((r) => r.status)).toEqual(Array(6).fill(200));
    proxy.blackhole();
    slowest = {};
    // Several rounds, so that every pooled connection gets tried and found dead.
    for (let round = 0; round < 3; round++) {
      const [jwt, l, r, k] = await Promise.all([withJwt(), login(), refresh(), withKey()]);
      expect({ round, jwt: jwt.status, withinBound: jwt.ms < BOUND_MS }).toEqual({ round, jwt: 200, withinBound: true });
      expectUnavailable('login', l);
      expectUnavailable('refresh', r);
      expectUnavailable('api key', k);
    }
    expectUnavailable('readiness', await ready());
    await proxy.restore();
    const recoveredMs = await expectRecovery();
    report('blackhole', slowest, recoveredMs);
  }, 60_000);
});

/** FAULT_TIMINGS=1 prints the measured times (for docs/deploy.md); silent otherwise. */
function report(mode: string, slowest: Record<string, Timed>, recoveredMs: number): void {
  if (!process.env.FAULT_TIMINGS) return;
  const times = Object.entries(slowest).map(([what, r]) => `${what} ${r.status} in ${r.ms} ms`);
  process.stdout.write(`[db-fault ${mode}] slowest: ${times.join(', ')}; recovered (first login 200) ${recoveredMs} ms after restore\n`);
}
