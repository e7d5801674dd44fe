import type { DataSource } from 'typeorm';

/**
 * Calls `onQuery(sql)` for every SQL statement the app sends from now on, to show which paths
 * reach the database. Wraps each query runner the driver hands out, once: SQLite hands out the
 * same runner again and again.
 */
export function spyOnQueries(dataSource: DataSource, onQuery: (sql: string) => void): void {
  const driver = dataSource.driver as unknown as { createQueryRunner: (mode: string) => { query: Function } };
  const create = driver.createQueryRunner.bind(driver);
  const wrapped = new WeakSet<object>();
  driver.createQueryRunner = (mode: string) => {
    const qr = create(mode);
    if (wrapped.has(qr)) return qr;
    wrapped.add(qr);
    const query = qr.query.bind(qr);
    qr.query = (sql: string, ...rest: unknown[]) => {
      onQuery(sql);
      return query(sql, ...rest);
    };
    return qr;
  };
}
