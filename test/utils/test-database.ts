import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

/**
 * A database of its own for one suite: a fresh SQLite file by default, or a fresh schema in
 * the PostgreSQL of DATABASE_URL (dropped afterwards) when that is a postgres:// URL. With
 * REDIS_URL set, the suite also gets a Redis key prefix of its own (REDIS_KEY_PREFIX), so
 * suites running side by side share no cache entry, channel or rate-limit counter.
 */
export interface TestDatabase {
  readonly kind: 'sqlite' | 'postgres';
  /** Env values that point an app at this database. */
  readonly env: Record<string, string>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  const suffix = randomBytes(6).toString('hex');
  const redis: Record<string, string> = process.env.REDIS_URL ? { REDIS_KEY_PREFIX: `lk_test_${suffix}:` } : {};
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const schema = `lk_test_${suffix}`;
    await withClient(url, (c) => c.query(`CREATE SCHEMA "${schema}"`));
    return {
      kind: 'postgres',
      env: { DATABASE_URL: url, DATABASE_SCHEMA: schema, ...redis },
      drop: () => withClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).then(() => undefined),
    };
  }
  const path = join(process.env.DATA_DIR!, `test-${suffix}.sqlite`);
  return {
    kind: 'sqlite',
    env: { DATABASE_URL: `sqlite:${path}`, ...redis },
    drop: async () => {
      for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    },
  };
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
