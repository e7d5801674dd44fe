import type { ObjectLiteral, Repository } from 'typeorm';

/**
 * Plain SQL for the few queries on request paths (credential lookups on a cache miss, the usage
 * log's inserts), where TypeORM's query builder cost more CPU than the database: a lookup by
 * secret hash took ~250 µs through `findOne` and ~100 µs as plain SQL (bench/README.md). The
 * same text runs on both databases: numbered parameters (`$1` on PostgreSQL, `?1` on SQLite),
 * lower-case column names that need no quoting, the table named as TypeORM names it.
 */
export class RawSql {
  readonly postgres: boolean;
  /** The entity's table, quoted, with its schema when there is one. */
  readonly table: string;

  constructor(private readonly repo: Repository<ObjectLiteral>) {
    const { driver } = repo.manager.connection;
    this.postgres = driver.options.type === 'postgres';
    const { schema, tableName } = repo.metadata;
    this.table = `${schema ? `${driver.escape(schema)}.` : ''}${driver.escape(tableName)}`;
  }

  /** The n-th (1-based) bound parameter. */
  param(n: number): string {
    return this.postgres ? `$${n}` : `?${n}`;
  }

  query<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<T[]> {
    return this.repo.query(sql, params) as Promise<T[]>;
  }

  /** A timestamp as a parameter: a Date for PostgreSQL, TypeORM's UTC text for SQLite `datetime`. */
  timestamp(date: Date): Date | string {
    return this.postgres ? date : date.toISOString().replace('T', ' ').replace('Z', '');
  }
}

/** A timestamp column as read: a Date (PostgreSQL) or UTC `YYYY-MM-DD HH:MM:SS[.SSS]` text (SQLite); ms or null. */
export function readTimestamp(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  const ms = Date.parse(`${String(value).replace(' ', 'T')}Z`);
  if (Number.isNaN(ms)) throw new Error(`unreadable timestamp ${String(value).slice(0, 40)}`);
  return ms;
}

/** A `simple-json` column as read (text on both databases). */
export function readJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
