#!/usr/bin/env node
// Login flood vs. a JWT-authenticated route (issue 8, "Floods and abuse").
//
// Starts the production build (dist/src/main.js) on a fresh SQLite database, creates a user,
// then measures the latency of GET /api/v1/auth/credential (an access token, no database) at a
// fixed request rate: once idle, once while a separate process floods password logins. Prints
// p50/p99 of both and their ratios; the target (issue 8) is a median at most 2x the idle one, and
// the exit status is 2 when it is missed. Self-contained: Node's http module
// only, no load-testing dependency. See bench/README.md.
//
//   node bench/login-flood.mjs [--rate 200] [--seconds 10] [--flood-connections 50]
//                              [--hash-concurrency N] [--hash-queue-limit N] [--with-rate-limits]
//                              [--no-build]
//
// Internally the same file is the flood process: node bench/login-flood.mjs --flood <url> ...

import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PASSWORD = 'bench passphrase 0123456789';
const USERNAME = 'bench';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const flag = (name) => process.argv.includes(`--${name}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One HTTP request; resolves with status, body and the elapsed milliseconds. */
function request(agent, url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.request(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString(), ms: Number(process.hrtime.bigint() - started) / 1e6 }),
      );
    });
    req.on('error', (error) => resolve({ status: 0, body: String(error), ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    req.end(body);
  });
}

const form = (fields) => new URLSearchParams(fields).toString();
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

// ---------------------------------------------------------------------------------------------
// Flood mode: N connections, each sending password logins back to back until told to stop.
// Mostly wrong passwords, for the bench user and for unknown names (each costs one argon2
// verification either way, and none opens a session), plus a few right ones.
if (flag('flood')) {
  const url = option('flood');
  const connections = Number(option('flood-connections', 50));
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const counts = {};
  let running = true;
  process.on('SIGTERM', () => (running = false));
  let n = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (running) {
        const i = n++;
        const username = i % 3 === 0 ? `nobody-${i % 1000}` : USERNAME;
        const password = i % 50 === 0 ? PASSWORD : `wrong ${i}`;
        const res = await request(agent, `${url}/api/v1/auth/provider/local/token`, {
          method: 'POST',
          headers: FORM,
          body: form({ username, password }),
        });
        counts[res.status] = (counts[res.status] ?? 0) + 1;
      }
    }),
  );
  process.stdout.write(JSON.stringify(counts) + '\n');
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Driver mode.
const rate = Number(option('rate', 200));
const seconds = Number(option('seconds', 10));
const floodConnections = Number(option('flood-connections', 50));

if (!flag('no-build')) {
  process.stdout.write('building (npm run build)…\n');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
const port = 20000 + Math.floor(Math.random() * 20000);
const env = {
  ...process.env,
  NODE_ENV: 'production',
  PORT: String(port),
  DATA_DIR: dataDir,
  DATABASE_URL: `sqlite:${join(dataDir, 'bench.sqlite')}`,
  SECRET_KEYS: randomBytes(32).toString('base64url'),
  TOKEN_PEPPER: randomBytes(32).toString('base64url'),
  SIGNING_KEYS: JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })),
  LOG_LEVEL: 'error',
  // The flood comes from one address here; a real one comes from many. Per-address limits would
  // answer this one with 429 after RATE_LIMIT_LOGIN_PER_IP requests, so by default they are off:
  // what is measured is what the hashing bound alone does when the limits do not apply.
  RATE_LIMIT_ENABLED: flag('with-rate-limits') ? 'true' : 'false',
};
for (const [opt, name] of [['hash-concurrency', 'HASH_CONCURRENCY'], ['hash-queue-limit', 'HASH_QUEUE_LIMIT']]) {
  if (option(opt) !== undefined) env[name] = option(opt);
}
delete env.REDIS_URL;

const children = [];
const cleanup = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

// The user, through the operator CLI (password on stdin, as in the README).
const created = spawnSync(process.execPath, ['dist/src/cli.js', 'user:create', USERNAME], {
  cwd: ROOT,
  env,
  input: `${PASSWORD}\n${PASSWORD}\n`,
  encoding: 'utf8',
});
if (created.status !== 0) {
  process.stderr.write(`user:create failed: ${created.stderr}${created.stdout}\n`);
  process.exit(1);
}

// The node options of `npm start` (package.json), then BENCH_NODE_FLAGS, e.g.
// "--cpu-prof --cpu-prof-dir=/tmp/prof", go to the server's node only.
const startWords = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start.split(/\s+/);
const nodeFlags = [...startWords.slice(1, startWords.indexOf('dist/src/main.js')), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
const server = spawn(process.execPath, [...nodeFlags, 'dist/src/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
children.push(server);
const base = `http://127.0.0.1:${port}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
for (let i = 0; ; i++) {
  if ((await request(agent, `${base}/health`)).status === 200) break;
  if (i > 300 || server.exitCode !== null) throw new Error('the server did not start');
  await sleep(100);
}

const loginRes = await request(agent, `${base}/api/v1/auth/provider/local/token`, {
  method: 'POST',
  headers: FORM,
  body: form({ username: USERNAME, password: PASSWORD }),
});
if (loginRes.status !== 200) throw new Error(`login failed: ${loginRes.status} ${loginRes.body}`);
const auth = { Authorization: `Bearer ${JSON.parse(loginRes.body).access_token}` };

/** `rate` requests per second for `seconds` to the JWT route, open loop; latencies in ms. */
async function measure() {
  const latencies = [];
  const statuses = {};
  const pending = [];
  const interval = 1000 / rate;
  const start = performance.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      request(agent, `${base}/api/v1/auth/credential`, { headers: auth }).then((r) => {
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        latencies.push(r.ms);
      }),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1], statuses };
}

// Warm up (JIT, caches, connections), then idle, then flooded.
await Promise.all(Array.from({ length: 200 }, () => request(agent, `${base}/api/v1/auth/credential`, { headers: auth })));
const idle = await measure();

const floodArgs = [fileURLToPath(import.meta.url), '--flood', base, '--flood-connections', String(floodConnections)];
const flood = spawn(process.execPath, floodArgs, {
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(flood);
let floodOutput = '';
flood.stdout.on('data', (c) => (floodOutput += c));
await sleep(1000); // let the flood fill the hashing queue
const floodStart = performance.now();
const flooded = await measure();
const floodSeconds = (performance.now() - floodStart) / 1000 + 1;
flood.kill('SIGTERM');
await new Promise((r) => flood.on('exit', r));
const floodCounts = JSON.parse(floodOutput.trim() || '{}');
const logins = Object.values(floodCounts).reduce((a, b) => a + b, 0);

const fmt = (n) => n.toFixed(2).padStart(8);
const ratio50 = flooded.p50 / idle.p50;
const ratio99 = flooded.p99 / idle.p99;
const lines = [
  `machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}`,
  `server: production build, SQLite, HASH_CONCURRENCY=${env.HASH_CONCURRENCY ?? 'default'}, HASH_QUEUE_LIMIT=${env.HASH_QUEUE_LIMIT ?? 'default'}, rate limits ${env.RATE_LIMIT_ENABLED === 'true' ? 'on' : 'off'}`,
  `JWT route: GET /api/v1/auth/credential at ${rate} req/s for ${seconds} s`,
  `flood: ${floodConnections} connections of password logins, ${logins} answered in ~${floodSeconds.toFixed(0)} s (${(logins / floodSeconds).toFixed(0)}/s): ${JSON.stringify(floodCounts)}`,
  '',
  '               p50 ms   p99 ms   max ms   statuses',
  `idle        ${fmt(idle.p50)} ${fmt(idle.p99)} ${fmt(idle.max)}   ${JSON.stringify(idle.statuses)}`,
  `login flood ${fmt(flooded.p50)} ${fmt(flooded.p99)} ${fmt(flooded.max)}   ${JSON.stringify(flooded.statuses)}`,
  `ratio       ${fmt(ratio50)}x ${fmt(ratio99)}x            (target: median at most 2x; p99 reported)`,
];
process.stdout.write(lines.join('\n') + '\n');
process.exit(ratio50 <= 2 ? 0 : 2);
