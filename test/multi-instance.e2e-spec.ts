import { DEFAULT_PASSWORD, createTestApp } from './utils/create-test-app';
import { buildServer, freePort, ServerProcess, startServer } from './utils/server-process';
import { createTestDatabase, TestDatabase } from './utils/test-database';

/**
 * Two server processes (`node dist/src/main.js`, compiled privately) on two loopback ports,
 * sharing one PostgreSQL schema and one Redis prefix, as behind a load balancer. The caches keep
 * their default TTLs (USER_CACHE_TTL 30 s, CREDENTIAL_CACHE_TTL 10 s), so a revocation that
 * reaches the other instance within 1 s did so through Redis, not by expiry.
 *
 * Needs PostgreSQL and Redis (the second pass of `.ci/run`); skipped otherwise.
 */
const maybe = process.env.REDIS_URL && /^postgres/.test(process.env.DATABASE_URL ?? '') ? describe : describe.skip;

const API = '/api/v1';
const POLL_MS = 20;
const LIMIT_MS = 1000;

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(server: ServerProcess, method: string, path: string, options: { auth?: string; json?: unknown; form?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (options.auth) headers.Authorization = options.auth;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const res = await fetch(server.url + API + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

const bearer = (token: string) => `Bearer ${token}`;
const apikey = (key: string) => `Apikey ${key}`;
const sidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).sid as string;

async function login(server: ServerProcess, username: string): Promise<{ access_token: string; refresh_token: string }> {
  const res = await call(server, 'POST', '/auth/provider/local/token', { form: { username, password: DEFAULT_PASSWORD } });
  if (res.status !== 200) throw new Error(`login of ${username} on ${server.name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** 200 (accepted) or 401 (refused) from a guarded route that needs nothing but the credential. */
async function credentialStatus(server: ServerProcess, auth: string): Promise<number> {
  const res = await call(server, 'GET', '/auth/credential', { auth });
  if (res.status !== 200 && res.status !== 401) throw new Error(`${server.name}: unexpected ${res.status} ${JSON.stringify(res.body)}`);
  return res.status;
}

/**
 * Polls `probe` every 20 ms from now until it answers 401; returns the milliseconds that took.
 * Fails when it still accepts after 5 s (the report then shows the real lag, not just "> 1 s").
 */
async function refusalDelay(probe: () => Promise<number>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if ((await probe()) === 401) return Math.round((performance.now() - started) * 10) / 10;
    if (performance.now() - started > 5000) throw new Error('still accepted 5 s after the revocation');
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

maybe('two instances sharing PostgreSQL and Redis', () => {
  let db: TestDatabase;
  let build: { dir: string; remove: () => void };
  let a: ServerProcess;
  let b: ServerProcess;
  const ids: Record<string, string> = {};
  const delays: [string, number][] = [];

  async function measured(what: string, probe: () => Promise<number>): Promise<number> {
    const ms = await refusalDelay(probe);
    delays.push([what, ms]);
    return ms;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    build = buildServer();
    // Schema (migrations) and users, through the real services, before the servers start.
    const seed = await createTestApp({}, db);
    try {
      for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) ids[name] = (await seed.createUser(name)).id;
      ids.root = (await seed.createUser('root', DEFAULT_PASSWORD, ['user', 'admin'])).id;
    } finally {
      await seed.close({ keepDatabase: true });
    }
    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      SECRET_KEYS: process.env.SECRET_KEYS!,
      SIGNING_KEYS: process.env.SIGNING_KEYS!,
      TOKEN_PEPPER: process.env.TOKEN_PEPPER!,
      REDIS_URL: process.env.REDIS_URL!,
      ...db.env, // DATABASE_URL, DATABASE_SCHEMA, REDIS_KEY_PREFIX: shared by both
      REFRESH_REUSE_GRACE: '2',
    };
    const [portA, portB] = [await freePort(), await freePort()];
    [a, b] = await Promise.all([startServer('A', build.dir, portA, env), startServer('B', build.dir, portB, env)]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    build?.remove();
    await db?.drop();
    if (delays.length > 0) {
      console.log(
        `Revocation on one instance → refused on the other (polled every ${POLL_MS} ms, from the revoking response):\n` +
          delays.map(([what, ms]) => `  ${what.padEnd(52)} ${ms.toFixed(1).padStart(7)} ms`).join('\n'),
      );
    }
  }, 30_000);

  it('a token issued by A works on B, and an API key made on B works on A', async () => {
    const tokens = await login(a, 'alice');
    expect(await credentialStatus(b, bearer(tokens.access_token))).toBe(200);
    const who = await call(b, 'GET', '/auth/whoami', { auth: bearer(tokens.access_token) });
    expect(who.status).toBe(200);
    expect(who.body.identities[0].id).toBe('alice');
    const key = await call(b, 'POST', '/auth/apikey', { auth: bearer(tokens.access_token), json: { scopes: null, expires_in: null } });
    expect(key.status).toBe(200);
    expect(await credentialStatus(a, apikey(key.body.secret))).toBe(200);
    // A refresh token from A rotates on B.
    const refreshed = await call(b, 'POST', '/auth/session/refresh', { json: { refresh_token: tokens.refresh_token } });
    expect(refreshed.status).toBe(200);
    expect(await credentialStatus(a, bearer(refreshed.body.access_token))).toBe(200);
  });

  it("a session revoked on A: that session's access token is refused on B within 1 s", async () => {
    const lost = await login(a, 'alice'); // e.g. on a lost laptop
    const here = await login(a, 'alice');
    for (let i = 0; i < 3; i++) expect(await credentialStatus(b, bearer(lost.access_token))).toBe(200); // B has it cached
    const res = await call(a, 'DELETE', `/auth/session/revoke/${sidOf(lost.access_token)}`, { auth: bearer(here.access_token) });
    expect(res.status).toBe(204);
    const ms = await measured('session revoked (DELETE /auth/session/revoke/{id})', () => credentialStatus(b, bearer(lost.access_token)));
    expect(ms).toBeLessThanOrEqual(LIMIT_MS);
    expect(await credentialStatus(a, bearer(lost.access_token))).toBe(401);
    // The session that revoked it, and its refresh, are untouched.
    expect(await credentialStatus(b, bearer(here.access_token))).toBe(200);
    expect((await call(b, 'POST', '/auth/session/refresh', { json: { refresh_token: lost.refresh_token } })).status).toBe(401);
  });

  it('a session revoked by an administrator on A is refused on B within 1 s', async () => {
    const root = await login(a, 'root');
    const erin = await login(b, 'erin');
    expect(await credentialStatus(b, bearer(erin.access_token))).toBe(200);
    const res = await call(a, 'DELETE', `/admin/credentials/sessions/${sidOf(erin.access_token)}`, { auth: bearer(root.access_token) });
    expect(res.status).toBeLessThan(300);
    const ms = await measured('session revoked by an admin', () => credentialStatus(b, bearer(erin.access_token)));
    expect(ms).toBeLessThanOrEqual(LIMIT_MS);
  });

  it('an API key revoked on A is refused on B within 1 s', async () => {
    const tokens = await login(a, 'bob');
    const created = await call(a, 'POST', '/auth/apikey', { auth: bearer(tokens.access_token), json: { scopes: null, expires_in: null } });
    expect(created.status).toBe(200);
    const key = created.body.secret as string;
    for (let i = 0; i < 3; i++) expect(await credentialStatus(b, apikey(key))).toBe(200); // B has the lookup cached
    const res = await call(a, 'DELETE', `/auth/apikey?first_eight=${created.body.first_eight}`, { auth: bearer(tokens.access_token) });
    expect(res.status).toBe(204);
    const ms = await measured('API key revoked', () => credentialStatus(b, apikey(key)));
    expect(ms).toBeLessThanOrEqual(LIMIT_MS);
  });

  it('a deploy token revoked on A is refused on B within 1 s', async () => {
    const owner = await login(a, 'bob');
    expect((await call(a, 'POST', '/plugins', { auth: bearer(owner.access_token), json: { name: 'multi-plugin' } })).status).toBe(201);
    const token = await call(a, 'POST', '/plugins/multi-plugin/tokens', { auth: bearer(owner.access_token), json: { description: 'ci' } });
    expect(token.status).toBe(201);
    // The upload route is the only one that takes a deploy token: without a file it is a 4xx
    // other than 401 once the token passed the guard.
    const upload = async () => {
      const res = await call(b, 'POST', '/plugins/multi-plugin/versions', { auth: bearer(token.body.token) });
      if (res.status >= 500) throw new Error(`B: ${res.status} ${JSON.stringify(res.body)}`);
      return res.status === 401 ? 401 : 200;
    };
    for (let i = 0; i < 3; i++) expect(await upload()).toBe(200);
    const res = await call(a, 'DELETE', `/plugins/multi-plugin/tokens/${token.body.id}`, { auth: bearer(owner.access_token) });
    expect(res.status).toBeLessThan(300);
    const ms = await measured('deploy token revoked', upload);
    expect(ms).toBeLessThanOrEqual(LIMIT_MS);
  });

  it('a user disabled on A is refused on B within 1 s (access token and API key)', async () => {
    const root = await login(a, 'root');
    const carol = await login(b, 'carol');
    const key = (await call(b, 'POST', '/auth/apikey', { auth: bearer(carol.access_token), json: { scopes: null, expires_in: null } })).body.secret as string;
    expect(await credentialStatus(b, bearer(carol.access_token))).toBe(200);
    expect(await credentialStatus(b, apikey(key))).toBe(200);
    const res = await call(a, 'POST', `/admin/users/${ids.carol}/disable`, { auth: bearer(root.access_token) });
    expect(res.status).toBe(200);
    const ms = await measured('user disabled: access token', () => credentialStatus(b, bearer(carol.access_token)));
    expect(ms).toBeLessThanOrEqual(LIMIT_MS);
    expect(await credentialStatus(b, apikey(key))).toBe(401);
    // Re-enabled on B: accepted again on A at once (the user state was invalidated there too).
    expect((await call(b, 'POST', `/admin/users/${ids.carol}/enable`, { auth: bearer(root.access_token) })).status).toBe(200);
    expect(await credentialStatus(a, bearer(carol.access_token))).toBe(200);
  });

  it('revoke-all on A is refused on B within 1 s (access tokens of every session, API keys)', async () => {
    const here = await login(a, 'dave');
    const elsewhere = await login(b, 'dave');
    const key = (await call(a, 'POST', '/auth/apikey', { auth: bearer(here.access_token), json: { scopes: null, expires_in: null } })).body.secret as string;
    for (const auth of [bearer(here.access_token), bearer(elsewhere.access_token), apikey(key)]) expect(await credentialStatus(b, auth)).toBe(200);
    const res = await call(a, 'POST', '/users/me/revoke-all', { auth: bearer(here.access_token) });
    expect(res.status).toBe(200);
    const jwt = await measured('revoke-all: access token', () => credentialStatus(b, bearer(elsewhere.access_token)));
    const api = await measured('revoke-all: API key', () => credentialStatus(b, apikey(key)));
    expect(Math.max(jwt, api)).toBeLessThanOrEqual(LIMIT_MS);
  });

  it('a role taken away on A is dropped from access tokens on B at once', async () => {
    const root = await login(a, 'root');
    const admin2 = await login(b, 'erin');
    expect((await call(a, 'PUT', `/admin/users/${ids.erin}/roles`, { auth: bearer(root.access_token), json: { roles: ['user', 'admin'] } })).status).toBe(200);
    const promoted = await login(b, 'erin');
    expect((await call(b, 'GET', '/admin/users', { auth: bearer(promoted.access_token) })).status).toBe(200);
    expect((await call(a, 'PUT', `/admin/users/${ids.erin}/roles`, { auth: bearer(root.access_token), json: { roles: ['user'] } })).status).toBe(200);
    const ms = await measured('role change (admin role removed)', async () => {
      const res = await call(b, 'GET', '/admin/users', { auth: bearer(promoted.access_token) });
      return res.status === 403 ? 401 : res.status;
    });
    expect(ms).toBeLessThanOrEqual(LIMIT_MS);
    expect(await credentialStatus(b, bearer(admin2.access_token))).toBe(200);
  });

  it('the same refresh token at A and B at once: both get the same successor (grace window, one chain), as on one instance; a later reuse revokes the session everywhere', async () => {
    const first = await login(a, 'alice');
    let token = first.refresh_token;
    const pairs: { access_token: string; refresh_token: string }[] = [];
    for (let round = 0; round < 5; round++) {
      const [ra, rb] = await Promise.all([
        call(a, 'POST', '/auth/session/refresh', { json: { refresh_token: token } }),
        call(b, 'POST', '/auth/session/refresh', { json: { refresh_token: token } }),
      ]);
      expect([ra.status, rb.status]).toEqual([200, 200]);
      expect(ra.body.refresh_token).toBe(rb.body.refresh_token); // one chain, not two
      expect(sidOf(ra.body.access_token)).toBe(sidOf(first.access_token)); // one session, not two
      expect(sidOf(rb.body.access_token)).toBe(sidOf(first.access_token));
      pairs.push(ra.body, rb.body);
      token = ra.body.refresh_token;
    }
    for (const pair of pairs.slice(-2)) {
      expect(await credentialStatus(a, bearer(pair.access_token))).toBe(200);
      expect(await credentialStatus(b, bearer(pair.access_token))).toBe(200);
    }
    // The last round's one token rotates once more on B; presented again on A within the grace,
    // it gets that same successor.
    const next = await call(b, 'POST', '/auth/session/refresh', { json: { refresh_token: token } });
    expect(next.status).toBe(200);
    const again = await call(a, 'POST', '/auth/session/refresh', { json: { refresh_token: token } });
    expect(again.status).toBe(200);
    expect(again.body.refresh_token).toBe(next.body.refresh_token);

    // Past REFRESH_REUSE_GRACE (2 s), the first token used again is theft: the session is revoked
    // on B, and its access tokens are refused on A too.
    await new Promise((r) => setTimeout(r, 2100));
    expect((await call(b, 'POST', '/auth/session/refresh', { json: { refresh_token: first.refresh_token } })).status).toBe(401);
    const ms = await measured('refresh-token reuse on B: access token on A', () => credentialStatus(a, bearer(next.body.access_token)));
    expect(ms).toBeLessThanOrEqual(LIMIT_MS);
    expect((await call(a, 'POST', '/auth/session/refresh', { json: { refresh_token: next.body.refresh_token } })).status).toBe(401);
  });

  it('an instance started later knows the sessions revoked before it started', async () => {
    const victim = await login(a, 'alice');
    const here = await login(a, 'alice');
    expect((await call(a, 'DELETE', `/auth/session/revoke/${sidOf(victim.access_token)}`, { auth: bearer(here.access_token) })).status).toBe(204);
    const c = await startServer('C', build.dir, await freePort(), {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      SECRET_KEYS: process.env.SECRET_KEYS!,
      SIGNING_KEYS: process.env.SIGNING_KEYS!,
      TOKEN_PEPPER: process.env.TOKEN_PEPPER!,
      REDIS_URL: process.env.REDIS_URL!,
      ...db.env,
    });
    try {
      expect(await credentialStatus(c, bearer(victim.access_token))).toBe(401);
      expect(await credentialStatus(c, bearer(here.access_token))).toBe(200);
    } finally {
      await c.stop();
    }
  }, 30_000);
});
