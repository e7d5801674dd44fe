/**
 * Attacks on input parsing and transport (issue 16 §7), each played against the real app over HTTP:
 * - deeply nested JSON (and every other parser the client reaches) → a clear 400, never a 500 or a stack;
 * - every response that carries a new secret is `Cache-Control: no-store`;
 * - TRUST_PROXY naming proxies: a spoofed X-Forwarded-For from anyone else changes nothing;
 * - data files under DATA_DIR are private to the service's user (0600 / 0700).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { Reflector } from '@nestjs/core';
import request from 'supertest';
import { LOG_SINK, type LogSink } from '../../src/common/logging';
import { SENDS_SECRET } from '../../src/common/http/sends-secret.decorator';
import { bearer, createTestApp, DEFAULT_PASSWORD, TestApp } from '../utils/create-test-app';
import { LocalIdp } from '../utils/local-idp';
import { createTestDatabase } from '../utils/test-database';
import { buildServer, freePort, ServerProcess, startServer } from '../utils/server-process';
import { discoverRoutes } from '../utils/routes';
import { TestBrowser, loginInBrowser } from '../utils/test-browser';
import { startAppWithIdp } from '../utils/app-with-idp';
import { startCiIssuer, type CiIssuer } from '../utils/ci-issuer';

const API = '/api/v1';
const LOGIN = `${API}/auth/provider/local/token`;

const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObjects = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

describe('attack: deeply nested input', () => {
  const lines: string[] = [];
  const sink: LogSink = { write: (line: string) => lines.push(line) };
  let t: TestApp;

  beforeAll(async () => {
    // A body limit large enough for a 100,000-deep body (200 KB), logs at log level into a captured sink.
    t = await createTestApp({ LOG_LEVEL: 'log', LOG_FORMAT: 'json', MAX_BODY_BYTES: String(1024 * 1024) }, undefined, [
      { provide: LOG_SINK, useValue: sink },
    ]);
    await t.createUser('alice');
  });
  afterAll(async () => t?.close());

  const errorLines = () =>
    lines.filter((line) => {
      try {
        const record = JSON.parse(line) as { level?: unknown };
        return typeof record.level === 'number' ? record.level >= 50 : record.level === 'error' || record.level === 'fatal';
      } catch {
        return /error|stack/i.test(line);
      }
    });
  const postJson = (path: string, body: string) => t.http().post(path).set('Content-Type', 'application/json').send(body);

  it('refuses JSON nested 33 deep with 400 JSON_TOO_DEEP, as a whole body and inside a field', async () => {
    for (const body of [nestedArrays(33), nestedObjects(33), `{"username":${nestedArrays(32)},"password":"x"}`]) {
      const res = await postJson(LOGIN, body).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'JSON_TOO_DEEP', requestId: expect.any(String) });
      expect(res.body.message).toMatch(/deeper than 32/);
    }
  });

  it('lets 32-deep JSON through the parser (the DTO then judges it) and a normal body still logs in', async () => {
    // No Latchkey DTO takes nested values, so 32 deep reaches validation: 422, not the depth refusal.
    const deep = await postJson(LOGIN, `{"username":"alice","password":"x","extra":${nestedArrays(31)}}`).expect(422);
    expect(deep.body.code).toBe('VALIDATION_FAILED');
    const brackets = await postJson(LOGIN, JSON.stringify({ username: 'alice', password: `correct horse battery staple` })).expect(200);
    expect(brackets.body.access_token).toEqual(expect.any(String));
    // Brackets inside strings are text, not nesting.
    await postJson(LOGIN, JSON.stringify({ username: '['.repeat(200), password: '{'.repeat(200) + '\\"[' })).expect(401);
  });

  it('answers 5,000- and 100,000-deep arrays and objects with 400, with no error logged', async () => {
    lines.length = 0;
    for (const depth of [5_000, 100_000]) {
      for (const body of [nestedArrays(depth), nestedObjects(depth), `{"username":${nestedArrays(depth)}}`]) {
        const res = await postJson(LOGIN, body).expect(400);
        expect(res.body.code).toBe('JSON_TOO_DEEP');
      }
    }
    // Also on a route behind authentication: the body is refused before anything reads it.
    await postJson(`${API}/auth/apikey`, nestedArrays(5_000)).expect(400);
    expect(errorLines()).toEqual([]);
    expect(lines.join('\n')).not.toMatch(/RangeError|Maximum call stack|\n\s+at /);
  });

  it('decodes a compressed body under the body limit, so a small gzip bomb is a 413 and an honest one logs in', async () => {
    const body = JSON.stringify({ username: 'alice', password: DEFAULT_PASSWORD });
    const send = (payload: Buffer, encoding: string) =>
      // serialize: the bytes as they are (superagent would JSON-encode a Buffer sent as JSON).
      t.http().post(LOGIN).set({ 'Content-Type': 'application/json', 'Content-Encoding': encoding }).serialize((b: Buffer) => b as unknown as string).send(payload);
    expect((await send(gzipSync(body), 'gzip')).status).toBe(200);
    expect((await send(brotliCompressSync(body), 'br')).status).toBe(200);
    // 8 MiB of spaces before the JSON: 8 KiB compressed, 8 × the 1 MiB limit once decoded.
    const bomb = gzipSync(Buffer.concat([Buffer.alloc(8 * 1024 * 1024, ' '), Buffer.from(body)]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const refused = await send(bomb, 'gzip');
    expect([refused.status, refused.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    // An encoding the server does not know is refused, not read as plain text.
    expect((await send(Buffer.from(body), 'compress')).status).toBe(415);
  });

  it('gives nesting no way in through urlencoded or multipart bodies, query strings or JSON cookies', async () => {
    lines.length = 0;
    const key = 'a' + '[b]'.repeat(5_000);
    // urlencoded is parsed flat (extended: false): the bracketed key is one unknown field.
    const form = await t.http().post(LOGIN).type('form').send(`${key}=1&username=alice&password=x`);
    expect(form.status).toBeGreaterThanOrEqual(400);
    expect(form.status).toBeLessThan(500);
    // Multipart fields are flat too (@fastify/multipart): a bracketed name, however long, is one
    // unknown field, which the login DTO refuses.
    for (const name of ['a' + '[]'.repeat(32), 'a' + '[b]'.repeat(5_000)]) {
      const deep = await t.http().post(LOGIN).field(name, '1').field('username', 'alice').field('password', 'x');
      expect(deep.body.code).toBe('VALIDATION_FAILED');
    }
    // The plugin upload too, by its maintainer: the bracketed field is one more text field, unread.
    const auth = bearer((await t.login('alice')).access_token);
    await t.http().post(`${API}/plugins`).set(auth).send({ name: 'deep-fields' }).expect(201);
    const upload = await t
      .http()
      .post(`${API}/plugins/deep-fields/versions`)
      .set(auth)
      .field('a' + '[b]'.repeat(5_000), '1')
      .field('version', '1.0.0')
      .attach('file', Buffer.from('pkg'), 'p.tar.gz');
    expect(upload.status).toBe(201);
    // The query parser is flat too.
    await t.http().get(`${API}/auth/whoami?${'a' + '[b]'.repeat(1_000)}=1`).expect(200);
    // Cookies are strings (no `j:` JSON cookies, as cookie-parser had); Latchkey reads its own only as strings.
    const cookie = `j:${nestedArrays(4_000)}`;
    for (const name of ['tiled_api_key', 'lk_session', 'tiled_csrf', 'lk_device']) {
      const res = await t.http().get(`${API}/auth/whoami`).set('Cookie', `${name}=${cookie}`);
      expect(res.status).toBeLessThan(500);
    }
    expect(errorLines()).toEqual([]);
  });
});

describe('attack: a cache keeps a copy of a new secret', () => {
  let idp: LocalIdp;
  let ci: CiIssuer; // GitHub Actions, for trusted publishing
  let t: TestApp;
  let base: string;
  const ALICE = { username: 'alice', password: 'alice-password' }; // an IdP account
  const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)![1];

  beforeAll(async () => {
    ci = await startCiIssuer('github');
    ({ idp, t, base } = await startAppWithIdp({ env: { TRUSTED_ISSUER_GITHUB_URL: ci.issuer, TRUSTED_PUBLISHING_AUDIENCE: 'latchkey' } }));
    await t.createUser('root', DEFAULT_PASSWORD, ['user', 'admin']);
  });
  afterAll(async () => {
    await t?.close();
    await idp?.stop();
    await ci?.stop();
  });

  /** A browser logged in through the /login form, as `root`. */
  const pageSession = () => loginInBrowser(base, 'root');
  async function submit(browser: TestBrowser, page: string, action: string, form: Record<string, string>) {
    const csrf = csrfOf((await browser.request(`${base}${page}`)).body);
    return browser.request(`${base}${action}`, { form: { csrf, ...form } });
  }
  async function pluginWithToken(access: string, name: string): Promise<string> {
    await t.http().post(`${API}/plugins`).set(bearer(access)).send({ name }).expect(201);
    const created = await t.http().post(`${API}/plugins/${name}/tokens`).set(bearer(access)).send({ description: 'ci' }).expect(201);
    return created.body.id as string;
  }

  /** Each route that hands out a secret: how to call it, and the secret it must have answered with. */
  type Answer = { status: number; cacheControl: string | null | undefined; body: string };
  const table: Record<string, () => Promise<Answer>> = {
    'POST /api/v1/auth/provider/:provider/token': async () => {
      const res = await t.http().post(LOGIN).type('form').send({ username: 'root', password: DEFAULT_PASSWORD });
      return { status: res.status, cacheControl: res.headers['cache-control'], body: res.text };
    },
    'POST /api/v1/auth/session/refresh': async () => {
      const res = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: (await t.login('root')).refresh_token });
      return { status: res.status, cacheControl: res.headers['cache-control'], body: res.text };
    },
    'POST /api/v1/auth/apikey': async () => {
      const res = await t.http().post(`${API}/auth/apikey`).set(bearer((await t.login('root')).access_token)).send({ scopes: ['read:metadata'], expires_in: null });
      return { status: res.status, cacheControl: res.headers['cache-control'], body: res.text };
    },
    'POST /api/v1/auth/principal/:uuid/apikey': async () => {
      const root = await t.login('root');
      const principal = await t.http().post(`${API}/auth/principal?role=user`).set(bearer(root.access_token)).expect(200);
      const res = await t.http().post(`${API}/auth/principal/${principal.body.uuid}/apikey`).set(bearer(root.access_token)).send({ scopes: ['read:metadata'], expires_in: null });
      return { status: res.status, cacheControl: res.headers['cache-control'], body: res.text };
    },
    'POST /api/v1/users/me/password': async () => {
      // The session is rotated: the answer carries its new refresh token.
      await t.createUser('pw-changer');
      const access = (await t.login('pw-changer')).access_token;
      const res = await t.http().post(`${API}/users/me/password`).set(bearer(access)).send({ current_password: DEFAULT_PASSWORD, new_password: 'another long passphrase 42' });
      return { status: res.status, cacheControl: res.headers['cache-control'], body: res.text };
    },
    'POST /api/v1/plugins/:package/tokens': async () => {
      const access = (await t.login('root')).access_token;
      await t.http().post(`${API}/plugins`).set(bearer(access)).send({ name: 'api-create' }).expect(201);
      const res = await t.http().post(`${API}/plugins/api-create/tokens`).set(bearer(access)).send({ description: 'ci' });
      return { status: res.status, cacheControl: res.headers['cache-control'], body: res.text };
    },
    'POST /api/v1/plugins/:package/tokens/:id/rotate': async () => {
      const access = (await t.login('root')).access_token;
      const id = await pluginWithToken(access, 'api-rotate');
      const res = await t.http().post(`${API}/plugins/api-rotate/tokens/${id}/rotate`).set(bearer(access)).send({ overlap_seconds: 0 });
      return { status: res.status, cacheControl: res.headers['cache-control'], body: res.text };
    },
    'POST /api/v1/trusted-publishing/exchange': async () => {
      const access = (await t.login('root')).access_token;
      await t.http().post(`${API}/plugins`).set(bearer(access)).send({ name: 'trusted' }).expect(201);
      const job = { repository: 'acme/trusted', workflow: 'release.yml', ref: 'refs/tags/v1.0.0' };
      await t.http().post(`${API}/plugins/trusted/trusted-publishers`).set(bearer(access)).send({ issuer: 'github', ...job }).expect(201);
      const res = await t.http().post(`${API}/trusted-publishing/exchange`).send({ token: ci.mint(ci.job(job)), plugin: 'trusted' });
      return { status: res.status, cacheControl: res.headers['cache-control'], body: res.text };
    },
    'POST /api/v1/auth/provider/:provider/authorize': async () => {
      const res = await t.http().post(`${API}/auth/provider/idp/authorize`);
      return { status: res.status, cacheControl: res.headers['cache-control'], body: res.text };
    },
    'GET /api/v1/auth/provider/:provider/code': async () => {
      // Three answers of the IdP callback: the API login as JSON, the same as a page, the offline-token page.
      const answers: Answer[] = [];
      const json = await new TestBrowser('application/json').open(`${base}${API}/auth/provider/idp/authorize`, { login: ALICE });
      answers.push({ status: json.status, cacheControl: json.headers.get('cache-control'), body: json.body });
      const browser = new TestBrowser();
      const page = await browser.open(`${base}${API}/auth/provider/idp/authorize`, { login: ALICE });
      answers.push({ status: page.status, cacheControl: page.headers.get('cache-control'), body: page.body });
      await browser.open(`${base}${API}/auth/provider/idp/authorize?next=/account`, { login: ALICE });
      const offline = await browser.open(`${base}${API}/auth/provider/idp/offline-token`);
      expect(offline.body).toContain('offline token');
      answers.push({ status: offline.status, cacheControl: offline.headers.get('cache-control'), body: offline.body });
      for (const a of answers) expect(a).toMatchObject({ status: 200, cacheControl: 'no-store' });
      return answers[0];
    },
    'POST /account/api-keys': async () => {
      const browser = await pageSession();
      const res = await submit(browser, '/account', '/account/api-keys', { note: 'page key', expires_in: '' });
      return { status: res.status, cacheControl: res.headers.get('cache-control'), body: res.body };
    },
    'POST /plugins/:plugin/tokens': async () => {
      const browser = await pageSession();
      await t.http().post(`${API}/plugins`).set(bearer((await t.login('root')).access_token)).send({ name: 'page-create' }).expect(201);
      const res = await submit(browser, '/plugins/page-create/tokens', '/plugins/page-create/tokens', { description: 'ci', expires_in: '' });
      return { status: res.status, cacheControl: res.headers.get('cache-control'), body: res.body };
    },
    'POST /plugins/:plugin/tokens/:token/rotate': async () => {
      const browser = await pageSession();
      const id = await pluginWithToken((await t.login('root')).access_token, 'page-rotate');
      const res = await submit(browser, '/plugins/page-rotate/tokens', `/plugins/page-rotate/tokens/${id}/rotate`, { overlap_seconds: '0' });
      return { status: res.status, cacheControl: res.headers.get('cache-control'), body: res.body };
    },
  };

  it.each(Object.keys(table))('%s answers its new secret with Cache-Control: no-store', async (route) => {
    const answer = await table[route]();
    expect(answer.status).toBeGreaterThanOrEqual(200);
    expect(answer.status).toBeLessThan(300);
    // It did hand out a secret: a refresh token, API key, deploy token or device code.
    expect(answer.body).toMatch(/lk_rt_\w+|lk_pat_\w+|lk_dpl_\w+|"device_code":"[0-9a-f]{64}"/);
    expect(answer.cacheControl).toBe('no-store');
  });

  it('the table covers every route marked @SendsSecret(), and every route in it is marked', () => {
    const reflector = t.app.get(Reflector);
    const marked = discoverRoutes(t.app)
      .filter((r) => reflector.get<boolean>(SENDS_SECRET, (r.controller.prototype as Record<string, Function>)[r.handlerName]))
      .map((r) => `${r.method} ${r.path}`);
    expect(marked.sort()).toEqual(Object.keys(table).sort());
  });
});

describe('attack: a spoofed X-Forwarded-For when TRUST_PROXY names the proxies', () => {
  // supertest connects from loopback: 127.0.0.1 (or ::1, or IPv4-mapped ::ffff:127.0.0.1).
  const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$|^::1$/;
  const lastLoginIp = async (t: TestApp): Promise<string> => {
    const rows = (await t.dataSource.query(`SELECT ip FROM ${t.table('audit_events')} WHERE ip IS NOT NULL ORDER BY id DESC`)) as { ip: string }[];
    return rows[0].ip;
  };
  /** Failed password logins, each claiming a different forwarded address; the statuses. */
  const loginsFrom = async (t: TestApp, count: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const res = await t.http().post(LOGIN).set('X-Forwarded-For', `203.0.113.${i + 1}`).type('form').send({ username: `nobody${i}`, password: 'wrong' });
      statuses.push(res.status);
    }
    return statuses;
  };
  const limits = { RATE_LIMIT_WINDOW: '60', RATE_LIMIT_LOGIN_PER_IP: '3', RATE_LIMIT_LOGIN_PER_USERNAME: '100' };

  describe('TRUST_PROXY=10.9.9.9 (a proxy that is not the client)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ TRUST_PROXY: '10.9.9.9', ...limits });
      await t.createUser('alice');
    });
    afterAll(async () => t?.close());

    it('keeps every spoofed address in the one bucket of the real client: the 4th login is 429', async () => {
      expect(await loginsFrom(t, 4)).toEqual([401, 401, 401, 429]);
    });

    it('audits the real address, not the forwarded one, and builds links from the Host, not X-Forwarded-Host', async () => {
      await t.http().post(LOGIN).set('X-Forwarded-For', '198.51.100.77').type('form').send({ username: 'alice', password: DEFAULT_PASSWORD });
      expect(await lastLoginIp(t)).toMatch(LOOPBACK);
      const handshake = await t.http().get(`${API}/`).set('X-Forwarded-Host', 'evil.example').set('X-Forwarded-Proto', 'https').expect(200);
      expect(JSON.stringify(handshake.body)).not.toContain('evil.example');
    });
  });

  describe('TRUST_PROXY=127.0.0.1,::1 (the real proxy: the test client)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ TRUST_PROXY: '127.0.0.1,::1', ...limits });
      await t.createUser('alice');
    });
    afterAll(async () => t?.close());

    it('counts each forwarded client in its own bucket and audits its address', async () => {
      expect(await loginsFrom(t, 5)).toEqual([401, 401, 401, 401, 401]);
      await t.http().post(LOGIN).set('X-Forwarded-For', '198.51.100.77').type('form').send({ username: 'alice', password: DEFAULT_PASSWORD }).expect(200);
      expect(await lastLoginIp(t)).toBe('198.51.100.77');
      const handshake = await t.http().get(`${API}/`).set('X-Forwarded-Host', 'auth.example').set('X-Forwarded-Proto', 'https').expect(200);
      expect(handshake.body.links.self).toBe('https://auth.example/api/v1');
    });
  });

  it('refuses to boot on a TRUST_PROXY that is neither true/false nor a list of addresses', async () => {
    const db = await createTestDatabase();
    try {
      await expect(createTestApp({ TRUST_PROXY: '10.0.0.300' }, db)).rejects.toThrow(/TRUST_PROXY="10\.0\.0\.300".*comma-separated list of proxy addresses/s);
    } finally {
      await db.drop();
    }
  });
});

describe('attack: another local user reads the data files', () => {
  // The real server (npm start's main.js) on an empty DATA_DIR, in development mode: it generates
  // its secrets there and creates its SQLite database; the CLI adds a user; a plugin file is uploaded.
  let build: { dir: string; remove: () => void };
  let server: ServerProcess | undefined;
  let scratch: string;
  let dataDir: string;
  const env = () => ({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });

  beforeAll(async () => {
    build = buildServer();
    scratch = mkdtempSync(join(tmpdir(), 'latchkey-files-'));
    dataDir = join(scratch, 'data', 'latchkey'); // does not exist yet
    server = await startServer('files', build.dir, await freePort(), env());
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    build?.remove();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** Every file and directory under DATA_DIR (DATA_DIR included) with its permission bits. */
  function modes(): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (path: string, name: string) => {
      const info = statSync(path);
      out[name] = (info.mode & 0o777).toString(8);
      if (info.isDirectory()) for (const child of readdirSync(path)) walk(join(path, child), `${name}/${child}`);
    };
    walk(dataDir, 'DATA_DIR');
    return out;
  }
  const privateOnly = (all: Record<string, string>) =>
    Object.fromEntries(Object.entries(all).map(([name]) => [name, statSync(join(dataDir, name.replace(/^DATA_DIR\/?/, ''))).isDirectory() ? '700' : '600']));

  it('creates DATA_DIR, secrets.json and the SQLite database (with its -wal and -shm) for the service user only', async () => {
    const found = modes();
    expect(Object.keys(found)).toEqual(
      expect.arrayContaining(['DATA_DIR', 'DATA_DIR/secrets.json', 'DATA_DIR/latchkey.sqlite', 'DATA_DIR/latchkey.sqlite-wal', 'DATA_DIR/latchkey.sqlite-shm']),
    );
    expect(found).toEqual(privateOnly(found));
    // The directories above DATA_DIR that the server created as well.
    expect((statSync(join(scratch, 'data')).mode & 0o777).toString(8)).toBe('700');
  });

  it('keeps it so after the CLI adds a user and a plugin file is uploaded', async () => {
    execFileSync(process.execPath, [join(build.dir, 'src/cli.js'), 'user:create', 'root'], {
      cwd: scratch,
      env: { PATH: process.env.PATH ?? '', NODE_PATH: join(__dirname, '../../node_modules'), ...env() },
      input: 'a long passphrase for root\n',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const http = () => request(server!.url);
    const login = await http().post(LOGIN).type('form').send({ username: 'root', password: 'a long passphrase for root' }).expect(200);
    const auth = bearer(login.body.access_token);
    await http().post(`${API}/plugins`).set(auth).send({ name: 'private-files' }).expect(201);
    await http().post(`${API}/plugins/private-files/versions`).set(auth).field('version', '1.0.0').attach('file', Buffer.from('pkg'), 'p-1.0.0.tar.gz').expect(201);
    const found = modes();
    expect(Object.keys(found).some((name) => name.startsWith('DATA_DIR/plugins/') && name.endsWith('.bin'))).toBe(true);
    expect(Object.keys(found)).toContain('DATA_DIR/plugins/.incoming');
    expect(found).toEqual(privateOnly(found));
  });
});
