import { DataSource } from 'typeorm';
import { inTransaction } from './transactions';

describe('inTransaction on SQLite', () => {
  let ds: DataSource;
  beforeAll(async () => {
    ds = new DataSource({ type: 'sqlite', database: ':memory:' });
    await ds.initialize();
    await ds.query('CREATE TABLE t (n INTEGER NOT NULL)');
  });
  afterAll(() => ds.destroy());

  /** Two writes and a pause inside: concurrent transactions overlap unless something orders them. */
  const write = (em: { query(sql: string, params?: unknown[]): Promise<unknown> }, n: number) =>
    em.query('INSERT INTO t (n) VALUES (?)', [n]).then(() => new Promise((r) => setTimeout(r, 5))).then(() => em.query('INSERT INTO t (n) VALUES (?)', [n]));

  it('plain concurrent transactions collide (the reason for it)', async () => {
    const results = await Promise.allSettled([1, 2, 3].map((n) => ds.transaction((em) => write(em, n))));
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
  });

  it('runs concurrent transactions one after the other, a failing one rolled back alone', async () => {
    await ds.query('DELETE FROM t');
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((n) => inTransaction(ds, async (em) => {
        await write(em, n);
        if (n === 3) throw new Error('rolled back');
      })),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const rows = (await ds.query('SELECT n FROM t ORDER BY rowid')) as { n: number }[];
    expect(rows.map((r) => r.n)).toEqual([1, 1, 2, 2, 4, 4]);
  });
});
