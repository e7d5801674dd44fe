#!/usr/bin/env node
// A/B: two or more builds of one route, measured in turn, round after round, so that a machine
// that slows down for a while slows every variant alike (bench/README.md, "A/B"). How the
// pipeline changes of issue 21 were measured: one variant is a copy of an older dist/.
//
//   npm run bench -- --cases public        # (or npx tsc -p tsconfig.bench.json) builds dist/
//   cp -r dist /tmp/dist-before            # before a change; then change, rebuild, and:
//   node bench/ab.mjs --rounds 6 \
//     '{"name":"before","dist":"/tmp/dist-before"}' '{"name":"after"}' \
//     '{"name":"bare Nest","script":"bench/peer/main.js","path":"/bench/public"}'
//
// A variant: `name`; `dist` (default ./dist) and `script` in it (default bench/server.js, the
// bench server on a fresh SQLite store); `path` (default /api/v1/bench/public); `env` added to the
// server's. Every server runs with npm start's node options, on CPU 0 when taskset is there, the
// load (dist/bench/load.js: autocannon, 16 connections, 1 s warm-up + 4 s) on CPU 1. Prints each
// run's req/s and main-thread CPU per request, then per variant the median over the rounds and
// the median of its per-round ratio to the first variant.

import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const roundsAt = args.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(args.splice(roundsAt, 2)[1]) : 5;
const variants = args.map((a) => JSON.parse(a));
if (variants.length < 2) {
  process.stderr.write('usage: node bench/ab.mjs [--rounds N] <variant JSON> <variant JSON> [...]\n');
  process.exit(2);
}
const pinned = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const pin = (cpu, command) => (pinned ? ['taskset', ['-c', cpu, ...command]] : [command[0], command.slice(1)]);
const words = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start.split(/\s+/);
const nodeOptions = words.slice(1, words.indexOf('dist/src/main.js'));
const signingKey = JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }));
const resolveIn = (dir, path) => (isAbsolute(path) ? path : join(dir, path));

/** Main-thread CPU seconds of a process (utime + stime of its first thread), from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'latchkey-ab-'));
const servers = [];
process.on('exit', () => {
  for (const s of servers) s.child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});
for (const [i, v] of variants.entries()) {
  const dist = resolveIn(ROOT, v.dist ?? 'dist');
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    NODE_PATH: join(ROOT, 'node_modules'),
    PORT: String(port),
    DATA_DIR: mkdtempSync(join(work, `${i}-`)),
    SECRET_KEYS: randomBytes(32).toString('base64url'),
    TOKEN_PEPPER: randomBytes(32).toString('base64url'),
    SIGNING_KEYS: signingKey,
    RATE_LIMIT_ENABLED: 'false',
    ...v.env,
  };
  const [command, commandArgs] = pin('0', [process.execPath, ...nodeOptions, resolveIn(dist, v.script ?? 'bench/server.js')]);
  const child = spawn(command, commandArgs, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  servers.push({ v, child, url: `http://127.0.0.1:${port}${v.path ?? '/api/v1/bench/public'}`, cpu: [], rps: [] });
}
for (const s of servers) {
  for (let tries = 0; ; tries++) {
    if (s.child.exitCode !== null) throw new Error(`${s.v.name} exited during start-up`);
    const ok = await fetch(s.url).then((r) => r.ok, () => false);
    if (ok) break;
    if (tries > 300) throw new Error(`${s.v.name} did not answer ${s.url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const warmupS = 1;
const durationS = 4;
for (let round = 1; round <= rounds; round++) {
  for (const s of servers) {
    const before = cpuSeconds(s.child.pid);
    const [command, commandArgs] = pin('1', [process.execPath, join(ROOT, 'dist', 'bench', 'load.js'), JSON.stringify({ url: s.url, connections: 16, durationS, warmupS })]);
    const out = spawnSync(command, commandArgs, { encoding: 'utf8' });
    const result = JSON.parse(out.stdout.trim().split('\n').pop());
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${s.v.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    // The warm-up's requests are not counted by autocannon: estimated at the measured rate.
    const us = ((cpuSeconds(s.child.pid) - before) / (result.requests * (1 + warmupS / durationS))) * 1e6;
    s.cpu.push(us);
    s.rps.push(result.rps);
    console.log(`round ${round} ${s.v.name.padEnd(16)} ${result.rps.toFixed(0).padStart(6)} req/s ${us.toFixed(0).padStart(5)} µs/request`);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('\nvariant          CPU µs/request (median)   ÷ first (median of per-round ratios)   by round');
for (const s of servers) {
  const ratio = median(s.cpu.map((x, i) => x / servers[0].cpu[i]));
  console.log(`${s.v.name.padEnd(16)} ${median(s.cpu).toFixed(0).padStart(10)}              ${ratio.toFixed(3).padStart(10)}                           ${s.cpu.map((x) => x.toFixed(0)).join(' ')}`);
}
process.exit(0);
