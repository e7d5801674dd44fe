import type { DataSource, EntityManager } from 'typeorm';

const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * `dataSource.transaction(work)`, safe to call concurrently on every database. SQLite has one
 * connection, and TypeORM cannot open a transaction on it while another is open ("cannot start a
 * transaction within a transaction": a 500 when two requests write at once), so on SQLite the
 * transactions of this process run one after the other. On PostgreSQL each runs at once on a
 * pooled connection of its own; use row locks there for check-then-write races.
 */
export function inTransaction<T>(dataSource: DataSource, work: (em: EntityManager) => Promise<T>): Promise<T> {
  if (dataSource.options.type !== 'sqlite') return dataSource.transaction(work);
  const run = () => dataSource.transaction(work);
  const queued = (sqliteQueues.get(dataSource) ?? Promise.resolve()).then(run, run);
  sqliteQueues.set(dataSource, queued.catch(() => undefined));
  return queued;
}
