import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Client } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/configuration';
import { MIGRATIONS } from './migrations';
import { TypeOrmLogger } from './typeorm-logger';

/**
 * PostgreSQL timeouts, chosen so that a database that cannot be reached costs a request at most
 * a few seconds and is answered 503 (test/db-fault.e2e-spec.ts measures both faults):
 * - refused or reset (the host is down): immediate;
 * - silence (a partition; packets dropped): a new connection gives up after CONNECT_TIMEOUT_MS,
 *   a query on a connection already open after QUERY_TIMEOUT_MS (measured: 3.0 s and 4.0 s).
 * A pool slot is waited for at most CONNECT_TIMEOUT_MS as well. TCP keep-alive lets the pool
 * notice connections that died while idle.
 */
export const CONNECT_TIMEOUT_MS = 3000;
/** Every query while the app serves requests: an auth service has no business with slower ones. */
export const QUERY_TIMEOUT_MS = 4000;
/** Queries before that: migrations at boot, and the CLI (an index on a large table takes time). */
export const MAINTENANCE_QUERY_TIMEOUT_MS = 10 * 60_000;

let queryTimeoutMs = MAINTENANCE_QUERY_TIMEOUT_MS;

/** configureApp calls this once the app is built (migrations done): from then on queries are bounded by QUERY_TIMEOUT_MS. */
export function boundQueriesForServing(): void {
  queryTimeoutMs = QUERY_TIMEOUT_MS;
}

/**
 * pg's Client with the query timeout decided per query (pg reads `query_timeout` from the query
 * config first): long while migrating, QUERY_TIMEOUT_MS once serving. A timed-out query rejects
 * with "Query read timeout", which AllExceptionsFilter answers 503 like any unreachable database.
 * Made when PostgreSQL is configured: with SQLite, pg is never loaded.
 */
function boundedQueryClient(): typeof Client {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client: PgClient } = require('pg') as typeof import('pg');
  return class BoundedQueryClient extends PgClient {
    override query(...args: any[]): any {
      const [first] = args;
      if (typeof first === 'string') args[0] = { text: first, query_timeout: queryTimeoutMs };
      else if (first && typeof first === 'object' && typeof first.submit !== 'function' && first.query_timeout === undefined) {
        args[0] = { ...first, query_timeout: queryTimeoutMs };
      }
      return (PgClient.prototype.query as (...a: any[]) => any).apply(this, args);
    }
  };
}

/**
 * TypeORM options for both the Nest app (entities auto-loaded) and the migration CLI
 * (`ormconfig.ts`). `synchronize` is off everywhere: the schema comes from migrations only.
 */
export function dataSourceOptions(db: DatabaseConfig, entities: DataSourceOptions['entities'] = []): DataSourceOptions {
  const common = {
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    logger: new TypeOrmLogger(),
    maxQueryExecutionTime: 1000,
  };
  if (db.type === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      url: db.url,
      schema: db.schema,
      // Fail fast instead of hanging when the database is gone; the pool reconnects by itself.
      connectTimeoutMS: CONNECT_TIMEOUT_MS,
      extra: { max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true, Client: boundedQueryClient() },
    };
  }
  if (db.path !== ':memory:') createPrivateFile(db.path);
  return {
    ...common,
    type: 'sqlite',
    database: db.path,
    enableWAL: db.path !== ':memory:',
    busyErrorRetry: 50,
    // TypeORM calls `.verbose()` on the driver module, which then captures a stack trace on every
    // call (a third of the CPU of a lookup by secret hash, bench/README.md): hand it the module
    // with a `verbose()` that leaves it as it is.
    driver: quietSqlite3(),
  };
}

/**
 * Creates the SQLite database file, and the directories above it, readable by this user only
 * (0600, 0700) before SQLite opens it: SQLite gives its -wal and -shm files the database file's
 * mode. An existing file is left as it is.
 */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
}

/** The sqlite3 module, with a `verbose()` that does not switch on its per-call stack traces. */
function quietSqlite3(): object {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sqlite3 = require('sqlite3') as object;
  return Object.assign(Object.create(sqlite3) as object, { verbose: () => sqlite3 });
}
