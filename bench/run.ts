/**
 * `npm run bench [-- --quick] [-- --rounds N --duration S --connections C --scale N]`
 * `npm run bench -- --cases api_key,public` runs only those cases, no report (with
 * BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server).
 *
 * The cost of authentication per credential kind, side by side in one run on one machine:
 * Latchkey's production build (bench/server.ts: AppModule + one trivial handler behind each
 * credential kind) and the peer (bench/peer: the same handler behind @nestjs/passport +
 * passport-jwt as the Nest docs write it), each in its own process, driven by autocannon from a
 * third (bench/load.ts). Then the credential lookups with 10,000 and with 1,000,000 stored
 * credentials, single flight of an IdP exchange, and memory. Writes bench/results/<date>.json and
 * .svg (quick runs: bench/results/quick/, not committed). See bench/README.md.
 *
 * SQLite in a fresh temporary folder by default; DATABASE_URL=postgres://… uses a fresh schema
 * there (dropped afterwards); REDIS_URL is passed on when set. Every step is bounded in time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import jwt from 'jsonwebtoken';
import type { StartupMemory } from './startup-memory';
import { loadConfig, type AppConfig } from '../src/config/configuration';
import { generateEs256Jwk } from '../src/config/token-signing';
import { LocalIdp } from '../test/utils/local-idp';
import { renderChart } from './chart';
import type { LoadResult, LoadSpec } from './load';
import { BenchSeeder, type SeededSecrets } from './seed';

const ROOT = join(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const PASSWORD = 'bench passphrase 0123456789';

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
function option(name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(argv[i + 1]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
const only = (() => {
  const i = argv.indexOf('--cases');
  return i >= 0 ? new Set(argv[i + 1].split(',')) : null;
})();
const opts = {
  rounds: option('rounds', quick ? 1 : 5),
  durationS: option('duration', quick ? 1 : 4),
  warmupS: quick ? 0.5 : 1,
  connections: option('connections', 16),
  smallStore: quick ? 1_000 : 10_000,
  largeStore: option('scale', quick ? 10_000 : 1_000_000),
  samples: quick ? 100 : 1_000,
};

/**
 * With two or more CPUs and `taskset` (util-linux), the server under test gets CPU 0 and the
 * load generator CPU 1 (the idle server and the orchestrator float): on a small machine this
 * keeps the two from trading places on the cores, which made back-to-back runs of the same case
 * differ by 20 %. `--no-pin` turns it off.
 */
const PIN =
  !argv.includes('--no-pin') && availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0
    ? { server: '0', load: '1' }
    : undefined;

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

interface Answer {
  status: number;
  body: string;
}

function request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out: ${url}`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

async function expectOk(url: string, init: Parameters<typeof request>[1], what: string): Promise<Answer> {
  const res = await request(url, init);
  if (res.status < 200 || res.status > 299) throw new Error(`${what}: ${res.status} ${res.body.slice(0, 300)}`);
  return res;
}

/** The node options `npm start` gives Latchkey (package.json), so that the benchmark runs what production runs. */
function startNodeOptions(): string[] {
  const words = String((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start).split(/\s+/);
  return words.slice(1, words.indexOf('dist/src/main.js'));
}

/** A child process that is killed when the benchmark ends, however it ends. */
const children = new Set<ChildProcess>();
const startupReports = new Map<ChildProcess, StartupMemory>();
function start(script: string, env: NodeJS.ProcessEnv, nodeFlags: string[] = []): ChildProcess {
  const command = [process.execPath, ...nodeFlags, script];
  const child = spawn(PIN ? 'taskset' : command[0], PIN ? ['-c', PIN.server, ...command] : command.slice(1), {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The bench servers report their start-up memory as one JSON line (startup-memory.ts).
  let stdout = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
    for (let nl = stdout.indexOf('\n'); nl >= 0; nl = stdout.indexOf('\n')) {
      const line = stdout.slice(0, nl);
      stdout = stdout.slice(nl + 1);
      if (line.startsWith('{"listening"')) startupReports.set(child, JSON.parse(line) as StartupMemory);
    }
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (code && code !== 0 && !signal) process.stderr.write(`${script} exited ${code}:\n${stderr}\n`);
  });
  children.add(child);
  return child;
}
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
}

async function waitReady(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited during start-up`);
    const ok = await request(url).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${what} did not answer ${url} within 30 s`);
}

/** Resident memory of a process in MiB, from /proc (Linux): now (VmRSS) and at its peak (VmHWM). */
function rssMiB(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
  return { now: kB('VmRSS') / 1024, peak: kB('VmHWM') / 1024 };
}

/**
 * CPU seconds used so far by a process's main thread (its event loop, which is what limits
 * throughput) and by the whole process (libuv threads too: SQLite, hashing), from /proc.
 */
function cpuSeconds(pid: number): { main: number; all: number } {
  const ticks = (file: string) => {
    const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100)
  };
  return { main: ticks(`/proc/${pid}/task/${pid}/stat`), all: ticks(`/proc/${pid}/stat`) };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One autocannon run in a separate process (bench/load.ts), bounded in time. */
function load(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // The spec goes through a file: thousands of rotated credentials exceed one argument's size limit.
    const specFile = join(tmpdir(), `latchkey-load-${process.pid}-${randomBytes(4).toString('hex')}.json`);
    writeFileSync(specFile, JSON.stringify(spec));
    const command = [process.execPath, join(DIST, 'bench', 'load.js'), `@${specFile}`];
    const child = spawn(PIN ? 'taskset' : command[0], PIN ? ['-c', PIN.load, ...command] : command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (spec.durationS + spec.warmupS + 30) * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rmSync(specFile, { force: true });
      if (code !== 0) return reject(new Error(`load generator exited ${code} for ${spec.url}`));
      resolve(JSON.parse(out) as LoadResult);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The run

/** `count` valid access tokens with the claims of `token`, each with its own `jti`. */
function distinctTokens(token: string, config: AppConfig, count: number): string[] {
  const { signing } = config.auth.tokenSigning;
  const claims = jwt.decode(token) as jwt.JwtPayload;
  return Array.from({ length: count }, (_, i) =>
    jwt.sign({ ...claims, jti: `bench-${i}` }, signing.signWith!, { algorithm: signing.alg, keyid: signing.kid, header: { alg: signing.alg, typ: 'at+jwt' } }),
  );
}

interface Case {
  name: string;
  label: string;
  /** Latchkey, the passport-jwt peer, or examples/notes (a service protected by @latchkey/nest). */
  target: 'latchkey' | 'peer' | 'peer_fastify' | 'floor' | 'example';
  path: string;
  headers?: Record<string, string>;
  rotate?: LoadSpec['rotate'];
}

/** One store's lookups of one credential kind: medians over the rounds. */
interface LookupResult {
  rps: number;
  p50: number;
  p99: number;
  cpuMainUs: number;
  p50ByRound: number[];
}

interface CaseResult extends LoadResult {
  cpuMainUs: number;
  cpuAllUs: number;
  name: string;
  label: string;
  rounds: number[];
  /** Req/s ÷ the public route's, per round (for a Latchkey case: the public runs just before and after it). */
  vsPublic: number[];
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  const pg = process.env.DATABASE_URL?.startsWith('postgres');
  const schema = pg ? `bench_${Date.now().toString(36)}` : undefined;
  const port = await freePort();
  const peerPort = await freePort();
  const largePort = await freePort();
  const largeBase = `http://127.0.0.1:${largePort}`;
  const largeSchema = pg ? `${schema}_large` : undefined;
  const base = `http://127.0.0.1:${port}`;
  const peerBase = `http://127.0.0.1:${peerPort}`;
  const fastifyPeerPort = await freePort();
  const fastifyPeerBase = `http://127.0.0.1:${fastifyPeerPort}`;
  const floorPort = await freePort();
  const floorBase = `http://127.0.0.1:${floorPort}`;
  const examplePort = await freePort();
  const exampleBase = `http://127.0.0.1:${examplePort}`;

  log(`Latchkey benchmark${quick ? ' (quick)' : ''}: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}`);
  log(`database: ${pg ? `PostgreSQL (schema ${schema})` : 'SQLite'}; Redis: ${process.env.REDIS_URL ? 'yes' : 'no'}`);
  log(`access tokens: ${process.env.ACCESS_TOKEN_ALGORITHM ?? 'ES256'}`);
  log(`CPU pinning: ${PIN ? `server on CPU ${PIN.server}, load generator on CPU ${PIN.load}` : 'none'}`);
  log(`load: autocannon, ${opts.connections} connections, ${opts.warmupS} s warm-up + ${opts.durationS} s, ${opts.rounds} round(s) per case\n`);

  const idp = await new LocalIdp({ redirectUris: ['http://127.0.0.1/callback'], accessTokenTtl: 3600 }).start();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    PORT: String(port),
    DATA_DIR: workDir,
    SECRET_KEYS: randomBytes(32).toString('base64url'),
    TOKEN_PEPPER: randomBytes(32).toString('base64url'),
    // Access tokens as production signs them by default (ES256), unless the caller picks HS256.
    ACCESS_TOKEN_ALGORITHM: process.env.ACCESS_TOKEN_ALGORITHM ?? 'ES256',
    SIGNING_KEYS: generateEs256Jwk(),
    // The load comes from one address: per-address limits would answer most of it with 429.
    RATE_LIMIT_ENABLED: 'false',
    OIDC_PROVIDERS: 'idp',
    ...idp.providerEnv('idp'),
    ...(pg ? { DATABASE_URL: process.env.DATABASE_URL, DATABASE_SCHEMA: schema } : {}),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: `bench-${Date.now().toString(36)}:` } : {}),
  };
  const config = loadConfig(env);

  try {
    if (pg) {
      const admin = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL });
      await admin.initialize();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.destroy();
    }

    // Users: the bench user through the operator CLI (the real path, argon2 and all).
    const seeder = await BenchSeeder.open(config);
    const created = spawnSync(process.execPath, [join(DIST, 'src', 'cli.js'), 'user:create', 'bench'], {
      cwd: ROOT,
      env,
      input: `${PASSWORD}\n${PASSWORD}\n`,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (created.status !== 0) throw new Error(`user:create failed: ${created.stderr}${created.stdout}`);
    let t = Date.now();
    const secrets = await seeder.samples(await seeder.userId('bench'), opts.samples);
    await seeder.fill(opts.smallStore);
    log(`seeded ${opts.smallStore} API keys and ${opts.smallStore} deploy tokens in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    // Latchkey and the peer.
    const serverEnv = { ...env, BENCH_PLUGINS: JSON.stringify(secrets.plugins) };
    // Every server runs with the node options of `npm start` (the V8 heap budget), then
    // BENCH_NODE_FLAGS: the peer too, so that CPU and memory are compared like for like.
    const nodeFlags = [...startNodeOptions(), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
    let server = start(join(DIST, 'bench', 'server.js'), serverEnv, nodeFlags);
    const peer = start(join(DIST, 'bench', 'peer', 'main.js'), { PATH: process.env.PATH, NODE_ENV: 'production', PORT: String(peerPort) }, nodeFlags);
    // The same peer on Fastify (Latchkey's adapter): a second, informative baseline.
    const fastifyPeer = start(join(DIST, 'bench', 'peer', 'main.js'), { PATH: process.env.PATH, NODE_ENV: 'production', PORT: String(fastifyPeerPort), PEER_ADAPTER: 'fastify' }, nodeFlags);
    // The design card's libraries alone (bench/floor): what any app on Latchkey's stack holds.
    const floor = start(join(DIST, 'bench', 'floor', 'main.js'), { PATH: process.env.PATH, NODE_ENV: 'production', PORT: String(floorPort) }, nodeFlags);
    await Promise.all([
      waitReady(`${base}/health/live`, server, 'Latchkey'),
      waitReady(`${peerBase}/bench/public`, peer, 'the peer'),
      waitReady(`${fastifyPeerBase}/bench/public`, fastifyPeer, 'the peer on Fastify'),
      waitReady(`${floorBase}/bench/public`, floor, 'the stack floor'),
    ]);
    // examples/notes (built by `npm run build:packages` above), protected by @latchkey/nest against this Latchkey.
    const example = start(join(ROOT, 'examples', 'notes', 'dist', 'main.js'), { PATH: process.env.PATH, NODE_ENV: 'production', PORT: String(examplePort), LATCHKEY_URL: base }, nodeFlags);
    await waitReady(`${exampleBase}/health`, example, 'examples/notes');

    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const login = await expectOk(`${base}/api/v1/auth/provider/local/token`, { method: 'POST', headers: form, body: 'username=bench&password=' + encodeURIComponent(PASSWORD) }, 'password login');
    const accessToken = JSON.parse(login.body).access_token as string;
    const peerToken = JSON.parse((await expectOk(`${peerBase}/auth/login`, { method: 'POST' }, 'peer login')).body).access_token as string;
    const offline = (await idp.obtainOfflineToken('alice')).refresh_token;
    // Tokens each request sees for the first time: the login's claims under new `jti`s, signed
    // with the server's own key, more of them than its verified-token cache holds (2,000), so
    // every request pays the signature check (as after a restart, or with many clients).
    const firstSight = distinctTokens(accessToken, config, 5000);

    const cases: Case[] = [
      { name: 'public', label: '@Public() route', target: 'latchkey', path: '/api/v1/bench/public' },
      { name: 'jwt', label: 'JWT access token', target: 'latchkey', path: '/api/v1/bench/user', headers: { Authorization: `Bearer ${accessToken}` } },
      {
        name: 'jwt_first_sight',
        label: 'JWT, each seen once',
        target: 'latchkey',
        path: '/api/v1/bench/user',
        rotate: { header: 'authorization', prefix: 'Bearer ', values: firstSight },
      },
      { name: 'api_key', label: 'personal API key', target: 'latchkey', path: '/api/v1/bench/user', headers: { Authorization: `Apikey ${secrets.apiKeys[0]}` } },
      {
        name: 'deploy_token',
        label: 'deploy token',
        target: 'latchkey',
        path: `/api/v1/bench/plugins/${secrets.pluginName}`,
        headers: { Authorization: `Bearer ${secrets.deployTokens[0]}` },
      },
      { name: 'offline_token', label: 'IdP offline token (cached)', target: 'latchkey', path: '/api/v1/bench/user', headers: { Authorization: `Bearer ${offline}` } },
      { name: 'peer_public', label: 'peer: unguarded route', target: 'peer', path: '/bench/public' },
      { name: 'peer_jwt', label: 'peer: passport-jwt', target: 'peer', path: '/bench/user', headers: { Authorization: `Bearer ${peerToken}` } },
      { name: 'peer_fastify_public', label: 'peer on Fastify: unguarded', target: 'peer_fastify', path: '/bench/public' },
      { name: 'floor_public', label: 'stack floor: validated', target: 'floor', path: '/bench/public?q=bench' },
      // The same two routes in a service protected by @latchkey/nest: /health is @Public(), /whoami needs a Latchkey credential.
      { name: 'example_public', label: 'notes: @Public()', target: 'example', path: '/health' },
      { name: 'example_jwt', label: 'notes: @latchkey/nest JWT', target: 'example', path: '/whoami', headers: { Authorization: `Bearer ${accessToken}` } },
    ];
    const others = { peer: [peerBase, peer], peer_fastify: [fastifyPeerBase, fastifyPeer], floor: [floorBase, floor], example: [exampleBase, example] } as const;
    const baseOf = (c: Case) => (c.target === 'latchkey' ? base : others[c.target][0]);
    const processOf = (c: Case) => (c.target === 'latchkey' ? server : others[c.target][1]);
    // Every case answers 200 before anything is measured (a 401 is fast, and would flatter).
    for (const c of cases) {
      const headers = c.rotate ? { ...c.headers, [c.rotate.header]: c.rotate.prefix + c.rotate.values[c.rotate.values.length - 1] } : c.headers;
      await expectOk(baseOf(c) + c.path, { headers }, c.label);
    }

    // A round measures the public route before and after every other Latchkey case (public, JWT,
    // public, API key, public, …, then the peer): each case is compared with the mean of the two
    // public runs around it, seconds apart, so that the machine's drift cancels out of the ratio.
    const publicCase = cases.find((c) => c.name === 'public')!;
    const schedule = only
      ? cases.filter((c) => only.has(c.name))
      : [publicCase, ...cases.filter((c) => c.target === 'latchkey' && c !== publicCase).flatMap((c) => [c, publicCase]), ...cases.filter((c) => c.target !== 'latchkey')];
    const runs = new Map<string, LoadResult[]>();
    const rssAfterLoad = { latchkey: 0, peer: 0, peer_fastify: 0, floor: 0, example: 0 };
    const rounds = new Map<string, number[]>(); // req/s per round (the public route: the mean of its runs)
    const vsPublic = new Map<string, number[]>(); // ÷ the public runs around it, per round
    const append = <T>(map: Map<string, T[]>, name: string, value: T) => map.set(name, [...(map.get(name) ?? []), value]);
    for (let round = 0; round < opts.rounds; round++) {
      const done: LoadResult[] = [];
      for (const c of schedule) {
        const pid = processOf(c).pid!;
        const before = cpuSeconds(pid);
        const r = await load({
          url: baseOf(c) + c.path,
          connections: opts.connections,
          durationS: opts.durationS,
          warmupS: opts.warmupS,
          headers: c.headers,
          rotate: c.rotate,
        });
        if (r.non2xx > 0 || r.errors > 0) throw new Error(`${c.label}: ${r.non2xx} non-2xx answers (${JSON.stringify(r.statuses)}) and ${r.errors} errors`);
        const after = cpuSeconds(pid);
        // CPU per request over warm-up and measurement (the warm-up's requests are not counted
        // by autocannon: estimated at the measured rate).
        const total = r.requests * (1 + opts.warmupS / opts.durationS);
        r.cpuMainUs = ((after.main - before.main) / total) * 1e6;
        r.cpuAllUs = ((after.all - before.all) / total) * 1e6;
        append(runs, c.name, r);
        done.push(r);
        rssAfterLoad[c.target] = rssMiB(pid).now;
        log(
          `  round ${round + 1} ${c.label.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  CPU/request: main thread ${r.cpuMainUs.toFixed(0)} µs, process ${r.cpuAllUs.toFixed(0)} µs`,
        );
      }
      if (only) continue;
      const publicRps = schedule.flatMap((c, i) => (c === publicCase ? [done[i].rps] : []));
      const publicMean = mean(publicRps);
      append(rounds, publicCase.name, publicMean);
      append(vsPublic, publicCase.name, 1);
      schedule.forEach((c, i) => {
        if (c === publicCase) return;
        append(rounds, c.name, done[i].rps);
        const around = c.target === 'latchkey' ? mean([done[i - 1].rps, done[i + 1].rps]) : publicMean;
        append(vsPublic, c.name, done[i].rps / around);
      });
    }
    if (only) {
      // Profiling aid (--cases a,b): the chosen cases only, no report.
      await Promise.all([...children].map(stop));
      return;
    }
    const results: CaseResult[] = cases.map((c) => {
      const rs = runs.get(c.name)!;
      return {
        name: c.name,
        label: c.label,
        rounds: rounds.get(c.name)!.map(Math.round),
        vsPublic: vsPublic.get(c.name)!,
        requests: rs.reduce((a, r) => a + r.requests, 0),
        rps: median(rs.map((r) => r.rps)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        cpuMainUs: median(rs.map((r) => r.cpuMainUs!)),
        cpuAllUs: median(rs.map((r) => r.cpuAllUs!)),
        non2xx: 0,
        errors: 0,
      };
    });

    // Memory, after the load.
    // Memory: each server's resident size right after its own last run (the other server's runs
    // would leave it idle long enough for V8 to shrink its heap), and its peak over the whole
    // load, which is what the target judges.
    const peaks = { latchkey: rssMiB(server.pid!).peak, peer: rssMiB(peer.pid!).peak, floor: rssMiB(floor.pid!).peak };
    const startup = { latchkey: startupReports.get(server)!, peer: startupReports.get(peer)!, floor: startupReports.get(floor)! };
    const rss = { latchkey: rssAfterLoad.latchkey, peer: rssAfterLoad.peer, floor: rssAfterLoad.floor, latchkeyPeak: peaks.latchkey, peerPeak: peaks.peer, floorPeak: peaks.floor };
    await stop(peer);
    await stop(fastifyPeer);
    await stop(floor);
    await stop(example);

    // Single flight: 100 concurrent requests with one offline token Latchkey has never seen.
    const fresh = (await idp.obtainOfflineToken('alice')).refresh_token;
    await idp.resetStats();
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => request(`${base}/api/v1/bench/user`, { headers: { Authorization: `Bearer ${fresh}` } })),
    );
    const idpCalls = (await idp.stats()).byGrantType.refresh_token ?? 0;
    const singleFlight = { requests: 100, ok: answers.filter((a) => a.status === 200).length, idpCalls };
    log(`\nsingle flight: 100 concurrent requests with a new offline token → ${singleFlight.ok} × 200, ${idpCalls} IdP call(s)`);

    // Lookups with the credential cache off (every request reads the store), many distinct
    // credentials in turn: the same credentials in a small store and in a copy of it filled up
    // to the large size, served by two instances side by side, rounds interleaved, so that both
    // stores meet the same machine; the p50 ratio is taken round by round.
    await stop(server);
    const largeDir = join(workDir, 'large');
    mkdirSync(largeDir);
    const largeEnv = { ...serverEnv, PORT: String(largePort), DATA_DIR: largeDir, ...(pg ? { DATABASE_SCHEMA: largeSchema } : {}) };
    t = Date.now();
    const largeSeeder = await seeder.copyTo(loadConfig(largeEnv));
    await seeder.close();
    await largeSeeder.fill(opts.largeStore);
    await largeSeeder.close();
    log(`\nlookups, credential cache off, ${opts.samples} distinct credentials in turn (a copy of the store filled up to ${opts.largeStore.toLocaleString('en')} API keys and deploy tokens in ${((Date.now() - t) / 1000).toFixed(1)} s):`);
    const stores = [
      { stored: opts.smallStore, url: base, server: start(join(DIST, 'bench', 'server.js'), { ...serverEnv, CREDENTIAL_CACHE_TTL: '0' }, nodeFlags) },
      { stored: opts.largeStore, url: largeBase, server: start(join(DIST, 'bench', 'server.js'), { ...largeEnv, CREDENTIAL_CACHE_TTL: '0' }, nodeFlags) },
    ];
    await Promise.all(stores.map((st) => waitReady(`${st.url}/health/live`, st.server, 'Latchkey')));
    const lookupKinds = [
      ['api_key', '/api/v1/bench/user', 'Apikey ', secrets.apiKeys],
      ['deploy_token', `/api/v1/bench/plugins/${secrets.pluginName}`, 'Bearer ', secrets.deployTokens],
    ] as const;
    const lookupRuns = stores.map(() => new Map<string, LoadResult[]>());
    for (let round = 0; round < Math.min(opts.rounds, 3); round++) {
      for (const [name, path, prefix, values] of lookupKinds) {
        for (const [i, st] of stores.entries()) {
          const before = cpuSeconds(st.server.pid!);
          const r = await load({
            url: st.url + path,
            connections: opts.connections,
            durationS: opts.durationS,
            warmupS: opts.warmupS,
            rotate: { header: 'authorization', prefix, values: [...values] },
          });
          const after = cpuSeconds(st.server.pid!);
          const total = r.requests * (1 + opts.warmupS / opts.durationS);
          r.cpuMainUs = ((after.main - before.main) / total) * 1e6;
          r.cpuAllUs = ((after.all - before.all) / total) * 1e6;
          if (r.non2xx > 0 || r.errors > 0) throw new Error(`lookup ${name}: ${r.non2xx} non-2xx answers and ${r.errors} errors`);
          lookupRuns[i].set(name, [...(lookupRuns[i].get(name) ?? []), r]);
          log(
            `  round ${round + 1} ${st.stored.toLocaleString('en').padStart(9)} stored, ${name.padEnd(13)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(3)} ms  CPU/request: main thread ${r.cpuMainUs.toFixed(0)} µs, process ${r.cpuAllUs.toFixed(0)} µs`,
          );
        }
      }
    }
    await Promise.all(stores.map((st) => stop(st.server)));
    const summary = (runs: Map<string, LoadResult[]>): Record<string, LookupResult> =>
      Object.fromEntries(
        [...runs].map(([name, rs]) => [
          name,
          { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), cpuMainUs: median(rs.map((r) => r.cpuMainUs!)), p50ByRound: rs.map((r) => r.p50) },
        ]),
      );
    const [small, large] = lookupRuns.map(summary);
    report({ results, rss, startup, nodeFlags, singleFlight, small, large, secrets, seconds: (Date.now() - startedAt) / 1000 });
  } finally {
    await Promise.all([...children].map(stop));
    await idp.stop();
    rmSync(workDir, { recursive: true, force: true });
    if (pg) {
      const admin = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL });
      await admin.initialize();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`DROP SCHEMA IF EXISTS ${largeSchema} CASCADE`);
      await admin.destroy();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Report

interface Target {
  measure: string;
  value: number;
  cpuRatio?: number;
  target: string;
  met: boolean;
}

function report(run: {
  results: CaseResult[];
  rss: { latchkey: number; peer: number; floor: number; latchkeyPeak: number; peerPeak: number; floorPeak: number };
  startup: { latchkey: StartupMemory; peer: StartupMemory; floor: StartupMemory };
  nodeFlags: string[];
  singleFlight: { requests: number; ok: number; idpCalls: number };
  small: Record<string, LookupResult>;
  large: Record<string, LookupResult>;
  secrets: SeededSecrets;
  seconds: number;
}): void {
  const by = Object.fromEntries(run.results.map((r) => [r.name, r]));
  // Ratios of throughput are taken round by round and the median of those is reported: against
  // the public route, with the mean of the public runs just before and after the case; against
  // the peer, with its run of the same round.
  const rps = (a: CaseResult, b: CaseResult) => (b.name === 'public' ? median(a.vsPublic) : median(a.rounds.map((x, i) => x / b.rounds[i])));
  // The same ratio from the server's main-thread CPU time per request: what the throughput
  // ratio would be if the event loop alone limited both, unaffected by the load generator.
  const cpu = (a: CaseResult, b: CaseResult) => b.cpuMainUs / a.cpuMainUs;
  const lines = [
    '',
    'case                          req/s   p50 ms   p99 ms   ÷ public   ÷ bare Nest   ÷ peer JWT   CPU µs/req (main, all)   req/s by round',
    ...run.results.map(
      (r) =>
        `${r.label.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${rps(r, by.public).toFixed(3).padStart(10)} ${rps(r, by.peer_public).toFixed(3).padStart(13)} ${rps(r, by.peer_jwt).toFixed(3).padStart(12)}   ${r.cpuMainUs.toFixed(0).padStart(8)} ${r.cpuAllUs.toFixed(0).padStart(8)}              ${r.rounds.join(' ')}`,
    ),
  ];
  const ratioTarget = (measure: string, a: CaseResult, b: CaseResult, min: number): Target => {
    const value = rps(a, b);
    return { measure, value, cpuRatio: cpu(a, b), target: `≥ ${min.toFixed(2)}`, met: value >= min };
  };
  // The limit is a bare Nest route (the peer's unguarded one, same handler, same node options).
  const bare = by.peer_public;
  const publicCpu = by.public.cpuMainUs / bare.cpuMainUs;
  const targets: Target[] = [
    { measure: '@Public() CPU/request ÷ bare Nest route', value: publicCpu, target: '≤ 1.25', met: publicCpu <= 1.25 },
    ratioTarget('JWT ÷ bare Nest route (req/s)', by.jwt, bare, 0.8),
    ratioTarget('API key ÷ bare Nest route (req/s)', by.api_key, bare, 0.75),
    ratioTarget('deploy token ÷ bare Nest route (req/s)', by.deploy_token, bare, 0.75),
    ratioTarget('offline token ÷ bare Nest route (req/s)', by.offline_token, bare, 0.75),
    ratioTarget('JWT ÷ public (req/s)', by.jwt, by.public, 0.95),
    ratioTarget('JWT ÷ peer JWT (req/s)', by.jwt, by.peer_jwt, 1.0),
    ...(by.jwt_first_sight ? [ratioTarget('JWT seen once ÷ peer JWT (req/s)', by.jwt_first_sight, by.peer_jwt, 1.0)] : []),
    ...(by.example_jwt && by.example_public ? [ratioTarget('notes: @latchkey/nest JWT ÷ its @Public() (req/s)', by.example_jwt, by.example_public, 0.9)] : []),
    ratioTarget('API key ÷ public (req/s)', by.api_key, by.public, 0.9),
    ratioTarget('deploy token ÷ public (req/s)', by.deploy_token, by.public, 0.9),
    ratioTarget('offline token ÷ public (req/s)', by.offline_token, by.public, 0.9),
    { measure: 'IdP calls, 100 concurrent, new offline token', value: run.singleFlight.idpCalls, target: '= 1', met: run.singleFlight.idpCalls === 1 },
    ...(['api_key', 'deploy_token'] as const).map((k) => {
      const value = median(run.large[k].p50ByRound.map((p50, i) => p50 / run.small[k].p50ByRound[i]));
      return { measure: `${k.replace('_', ' ')} lookup p50, ${short(opts.largeStore)} ÷ ${short(opts.smallStore)} stored`, value, target: '≤ 1.20', met: value <= 1.2 };
    }),
    { measure: 'peak RSS Latchkey ÷ peer (same node options)', value: run.rss.latchkeyPeak / run.rss.peerPeak, target: '≤ 1.30', met: run.rss.latchkeyPeak / run.rss.peerPeak <= 1.3 },
  ];
  const startup = (m: StartupMemory) => `${m.heapMiB.toFixed(1)} MiB live heap, ${m.rssMiB.toFixed(0)} MiB RSS, ${m.modules} modules`;
  lines.push(
    '',
    `after start-up (two full GCs): Latchkey ${startup(run.startup.latchkey)}; peer ${startup(run.startup.peer)} (live heap ÷: ${(run.startup.latchkey.heapMiB / run.startup.peer.heapMiB).toFixed(2)}); stack floor ${startup(run.startup.floor)}`,
    `memory under load (${run.nodeFlags.join(' ') || "node's defaults"} for both): Latchkey ${run.rss.latchkeyPeak.toFixed(0)} MiB peak RSS, ${run.rss.latchkey.toFixed(0)} MiB after its last run; peer ${run.rss.peerPeak.toFixed(0)} MiB peak, ${run.rss.peer.toFixed(0)} MiB after its last run (RSS after the load ÷: ${(run.rss.latchkey / run.rss.peer).toFixed(3)})`,
    `the design card's stack alone (bench/floor, notes, not targets): ${run.rss.floorPeak.toFixed(0)} MiB peak RSS, ÷ peer ${(run.rss.floorPeak / run.rss.peerPeak).toFixed(3)}; Latchkey ÷ it ${(run.rss.latchkeyPeak / run.rss.floorPeak).toFixed(3)}`,
    ...(by.peer_fastify_public
      ? [
          `same adapter (notes, not targets): bare Nest on Fastify ${by.peer_fastify_public.cpuMainUs.toFixed(0)} µs/request vs ${bare.cpuMainUs.toFixed(0)} on Express; ` +
            `Latchkey @Public() ÷ it: CPU ${(by.public.cpuMainUs / by.peer_fastify_public.cpuMainUs).toFixed(3)}, JWT req/s ${rps(by.jwt, by.peer_fastify_public).toFixed(3)}`,
        ]
      : []),
    `lookups (cache off): ${(['api_key', 'deploy_token'] as const)
      .map((k) => `${k} p50 ${run.small[k].p50.toFixed(3)} → ${run.large[k].p50.toFixed(3)} ms, ${run.small[k].rps.toFixed(0)} → ${run.large[k].rps.toFixed(0)} req/s`)
      .join('; ')}`,
    '',
    'target                                              value    target           (same ratio from CPU time per request)',
    ...targets.map(
      (x) =>
        `${x.measure.padEnd(48)} ${x.value.toFixed(3).padStart(8)}   ${x.target.padEnd(7)}  ${(x.met ? 'met' : 'MISSED').padEnd(7)}  ${x.cpuRatio === undefined ? '' : x.cpuRatio.toFixed(3)}`,
    ),
    '',
    `whole run: ${run.seconds.toFixed(0)} s`,
  );
  log(lines.join('\n'));

  const date = new Date().toISOString().slice(0, 10);
  const dir = join(ROOT, 'bench', 'results', ...(quick ? ['quick'] : []));
  mkdirSync(dir, { recursive: true });
  const json = {
    date: new Date().toISOString(),
    quick,
    machine: { cpus: availableParallelism(), model: cpus()[0]?.model.trim(), node: process.version },
    database: process.env.DATABASE_URL?.startsWith('postgres') ? 'postgres' : 'sqlite',
    redis: !!process.env.REDIS_URL,
    options: opts,
    cases: run.results,
    memoryMiB: run.rss,
    startup: run.startup,
    nodeFlags: run.nodeFlags,
    singleFlight: run.singleFlight,
    lookups: { small: { stored: opts.smallStore, ...run.small }, large: { stored: opts.largeStore, ...run.large } },
    targets,
    seconds: run.seconds,
  };
  writeFileSync(join(dir, `${date}.json`), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(join(dir, `${date}.svg`), renderChart(targets, `Latchkey benchmark ${date}${quick ? ' (quick)' : ''}`));
  log(`wrote ${join(dir, `${date}.json`)} and .svg`);
}

const short = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`benchmark failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
