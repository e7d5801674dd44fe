import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bearer, createTestApp, DEFAULT_PASSWORD } from './utils/create-test-app';
import { createTestDatabase, TestDatabase } from './utils/test-database';

const ROOT = resolve(__dirname, '..');
const API = '/api/v1';
const GRACE_MS = 8000;
const FILE_BYTES = 24 * 1024 * 1024;

/**
 * Graceful shutdown of a real server process (`node <build>/src/main.js`, compiled into a
 * directory of this suite's own), SIGTERM in the middle of traffic:
 * - a download whose answer has started and an upload-sized login body still arriving are in
 *   flight: both complete, the login's answer says `Connection: close`;
 * - a new connection is refused; an idle keep-alive connection is closed;
 * - a request that arrives on the download's kept-alive connection meanwhile gets 503
 *   `SERVICE_UNAVAILABLE` with `Connection: close`;
 * - the process exits 0 once they are done.
 */
describe('graceful shutdown (SIGTERM to a real server process)', () => {
  let build: string;
  let db: TestDatabase;
  let storage: string;
  let child: ChildProcess | undefined;
  let output = '';
  let port = 0;
  let accessToken = '';
  let fileSha = '';

  beforeAll(async () => {
    build = mkdtempSync(join(tmpdir(), 'latchkey-shutdown-build-'));
    const tsc = spawnSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', build, '--incremental', 'false', '--sourceMap', 'false'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (tsc.status !== 0) throw new Error(`build failed:\n${tsc.stdout}${tsc.stderr}`);

    // The data the server will find: a user, a plugin with a 24 MiB version (made in-process).
    db = await createTestDatabase();
    storage = mkdtempSync(join(tmpdir(), 'latchkey-shutdown-storage-'));
    const setup = await createTestApp({ PLUGIN_STORAGE_DIR: storage }, db);
    try {
      await setup.createUser('alice');
      const { access_token } = await setup.login('alice');
      await setup.http().post(`${API}/plugins`).set(bearer(access_token)).send({ name: 'big-plugin' }).expect(201);
      const file = Buffer.alloc(FILE_BYTES, 7);
      fileSha = createHash('sha256').update(file).digest('hex');
      await setup.http().post(`${API}/plugins/big-plugin/versions`).set(bearer(access_token)).field('version', '1.0.0').attach('file', file, 'big.tar.gz').expect(201);
      accessToken = access_token;
    } finally {
      await setup.close({ keepDatabase: true });
    }
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await db?.drop();
    for (const dir of [build, storage]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function startServer(): Promise<void> {
    const cwd = mkdtempSync(join(tmpdir(), 'latchkey-shutdown-cwd-'));
    child = spawn(process.execPath, [join(build, 'src/main.js')], {
      cwd, // no ./.env here
      env: {
        ...process.env,
        ...db.env,
        NODE_PATH: join(ROOT, 'node_modules'),
        PORT: '0',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'log',
        SHUTDOWN_GRACE_MS: String(GRACE_MS),
        PLUGIN_STORAGE_DIR: storage,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    port = Number((await waitForLog(/listening on http:\/\/localhost:(\d+)\//, 30_000))[1]);
  }

  function waitForLog(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolvePromise, reject) => {
      const started = Date.now();
      const timer = setInterval(() => {
        const match = output.match(pattern);
        if (match) {
          clearInterval(timer);
          resolvePromise(match);
        } else if (Date.now() - started > timeoutMs || child?.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`no ${pattern} in the server output:\n${output.slice(-4000)}`));
        }
      }, 20);
    });
  }

  const exited = () =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) => {
      if (child!.exitCode !== null || child!.signalCode !== null) return resolvePromise({ code: child!.exitCode, signal: child!.signalCode });
      child!.once('exit', (code, signal) => resolvePromise({ code, signal }));
    });

  interface Answer {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
    reusedSocket: boolean;
  }

  /** One request; `onResponse` may hold the body back (pause) before it is read. */
  function send(
    agent: http.Agent,
    options: { method?: string; path: string; headers?: http.OutgoingHttpHeaders; body?: Buffer },
    hooks: { onRequest?: (req: http.ClientRequest) => void; onResponse?: (res: http.IncomingMessage) => void } = {},
  ): Promise<Answer> {
    return new Promise((resolvePromise, reject) => {
      const req = http.request({ host: '127.0.0.1', port, agent, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
        hooks.onResponse?.(res);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), reusedSocket: req.reusedSocket }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (hooks.onRequest) hooks.onRequest(req);
      else req.end(options.body);
    });
  }

  it('finishes requests in flight, refuses new ones, answers late keep-alive requests 503 + Connection: close, exits 0', async () => {
    await startServer();
    const keepAlive = () => new http.Agent({ keepAlive: true, maxSockets: 1 });

    // 1. A download whose answer has begun; the client stops reading after the headers.
    const downloads = keepAlive();
    let downloadResponse!: http.IncomingMessage;
    let headersSeen!: () => void;
    const headersArrived = new Promise<void>((r) => (headersSeen = r));
    const download = send(
      downloads,
      { path: `${API}/plugins/big-plugin/versions/1.0.0/download`, headers: bearer(accessToken) },
      {
        onResponse: (res) => {
          downloadResponse = res;
          res.pause();
          headersSeen();
        },
      },
    );
    await headersArrived;
    downloadResponse.pause();

    // 2. A login whose body is still arriving (headers sent, half the body).
    const form = Buffer.from(`username=alice&password=${encodeURIComponent(DEFAULT_PASSWORD)}`);
    let loginRequest!: http.ClientRequest;
    const login = send(
      new http.Agent({ keepAlive: true }),
      { method: 'POST', path: `${API}/auth/provider/local/token`, headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': form.length } },
      {
        onRequest: (req) => {
          loginRequest = req;
          req.write(form.subarray(0, 10));
        },
      },
    );

    // 3. An idle keep-alive connection.
    const idle = keepAlive();
    expect((await send(idle, { path: '/health/live' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200)); // the login's headers have reached the server
    const idleSocket = Object.values(idle.freeSockets).flat()[0];
    expect(idleSocket).toBeDefined();
    const idleClosed = new Promise<void>((r) => idleSocket!.once('close', () => r()));

    const signalledAt = Date.now();
    child!.kill('SIGTERM');
    await waitForLog(/SIGTERM: no new connections; 2 request\(s\) in flight/, 5000);

    // New connections are refused; the idle one is closed by the server.
    await expect(send(new http.Agent(), { path: '/health/live' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await idleClosed;

    // The download completes, intact; the next request on its connection is turned away.
    downloadResponse.resume();
    const downloaded = await download;
    expect(downloaded.status).toBe(200);
    expect(downloaded.body.length).toBe(FILE_BYTES);
    expect(createHash('sha256').update(downloaded.body).digest('hex')).toBe(fileSha);
    const late = await send(downloads, { path: `${API}/auth/whoami`, headers: bearer(accessToken) });
    expect(late.reusedSocket).toBe(true);
    expect(late.status).toBe(503);
    expect(late.headers.connection).toBe('close');
    expect(late.headers['retry-after']).toBe('1');
    expect(JSON.parse(late.body.toString('utf8'))).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });

    // The login's body arrives in full: it is answered normally, and told to close the connection.
    expect(child!.exitCode).toBeNull(); // still waiting for the login
    loginRequest.end(form.subarray(10));
    const loggedIn = await login;
    expect(loggedIn.status).toBe(200);
    expect(loggedIn.headers.connection).toBe('close');
    expect(JSON.parse(loggedIn.body.toString('utf8')).access_token).toEqual(expect.any(String));

    // Then the process closes Redis and the database and exits 0, well within the grace period.
    expect(await exited()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(GRACE_MS);
    expect(output).toMatch(/requests drained in \d+ ms/);
    expect(output).toMatch(/stopped in \d+ ms/);
  }, 60_000);
});
