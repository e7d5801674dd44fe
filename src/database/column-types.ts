import type { ColumnType } from 'typeorm';
import { databaseType } from '../config/configuration';

const postgres = databaseType() === 'postgres';

/** Column options that differ between PostgreSQL and SQLite; entities and migrations share them. */
export const COLUMN = Object.freeze({
  uuid: (postgres ? { type: 'uuid' } : { type: 'varchar', length: 36 }) as { type: ColumnType; length?: number },
  timestamp: (postgres ? { type: 'timestamptz' } : { type: 'datetime' }) as { type: ColumnType },
  binary: (postgres ? { type: 'bytea' } : { type: 'blob' }) as { type: ColumnType },
});

export const MIGRATION_TYPES = Object.freeze({
  uuid: postgres ? 'uuid' : 'varchar(36)',
  timestamp: postgres ? 'timestamptz' : 'datetime',
  binary: postgres ? 'bytea' : 'blob',
  now: postgres ? 'now()' : "(strftime('%Y-%m-%d %H:%M:%f', 'now'))",
});

/** An auto-increment primary key for append-only tables (a cursor that only grows): bigint on PostgreSQL. */
export const INCREMENT_ID = Object.freeze({
  name: 'id',
  type: postgres ? 'bigint' : 'integer',
  isPrimary: true,
  isGenerated: true,
  generationStrategy: 'increment' as const,
});
