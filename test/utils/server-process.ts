import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/**
 * Compiles the server into a private directory (not ./dist, which a developer or another suite
 * may be building at the same moment) and returns it. Type errors do not stop the emit; the
 * typecheck step reports them.
 */
export function buildServer(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-build-'));
  try {
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dir, '--incremental', 'false', '--sourceMap', 'false'],
      { cwd: ROOT, stdio: 'pipe' },
    );
  } catch (error) {
    if (!existsSync(join(dir, 'src/main.js'))) throw error;
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A port that is free now and that no other test will be handed by the OS meanwhile: picked at
 * random below Linux's ephemeral range (32768+), where every `listen(0)` of the other Jest
 * workers' servers and supertest's per-request listeners lands. A port from the OS (`listen(0)`)
 * could be handed out again before the server started here binds it; the other server's
 * `/health` then answers for it (a CI run lost the docs suite to that).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    // The server binds the IPv6 wildcard (and with it IPv4); check both.
    if ((await canBind(port, '127.0.0.1')) && (await canBind(port, '::'))) return port;
    if (attempt > 50) throw new Error('no free port found in 20000-31999');
  }
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolveBind) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolveBind(error.code === 'EAFNOSUPPORT' || error.code === 'EADDRNOTAVAIL'));
    server.listen(port, host, () => server.close(() => resolveBind(true)));
  });
}

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** The last lines it printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `node <build>/src/main.js` on `port` with exactly `env` (plus PATH and NODE_PATH, so the
 * compiled code finds this repository's node_modules) in a scratch working directory (no ./.env
 * is read), and waits until `/health` answers 200.
 */
export async function startServer(name: string, build: string, port: number, env: Record<string, string>): Promise<ServerProcess> {
  const cwd = mkdtempSync(join(tmpdir(), `latchkey-${name}-`));
  const child = spawn(process.execPath, [join(build, 'src/main.js')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules'), DATA_DIR: cwd, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    name,
    url,
    child,
    output: () => lines.join('\n'),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(cwd, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${server.output()}`);
    const ok = await Promise.all(
      ['/health', '/health/live'].map((path) =>
        fetch(url + path).then(
          (r) => r.status === 200,
          () => false,
        ),
      ),
    ).then((answers) => answers.some(Boolean));
    if (ok && child.exitCode === null) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${name} did not answer /health within 30 s:\n${server.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
