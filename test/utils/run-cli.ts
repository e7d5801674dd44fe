import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/cli';
import type { TestDatabase } from './test-database';

/**
 * Runs the operator CLI in-process against `db`, with `stdin` piped as an operator would (a
 * password), and `env` on top of the database's (undefined removes a variable). The process
 * environment is restored afterwards.
 */
export async function cli(db: TestDatabase, argv: string[], stdin = '', env: Record<string, string | undefined> = {}) {
  const saved = { ...process.env };
  Object.assign(process.env, db.env, env);
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete process.env[key];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  try {
    const code = await runCli(argv, { stdin: Readable.from([stdin]), stdout, stderr });
    return { code, out, err };
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}
