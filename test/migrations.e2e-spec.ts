import { createTestApp, TestApp } from './utils/create-test-app';

/** Every migration can be reverted and applied again, on SQLite and on PostgreSQL. */
describe('migrations', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('ran at boot; down() removes what up() made; up() again restores a working schema', async () => {
    const ds = t.dataSource;
    expect(await ds.showMigrations()).toBe(false); // nothing pending
    const applied = ds.migrations.length;
    for (let i = 0; i < applied; i++) await ds.undoLastMigration();
    const runner = ds.createQueryRunner();
    try {
      // Every entity's table, so a table added later is covered without touching this file.
      const tables = ds.entityMetadatas.map((m) => m.tableName);
      expect(tables).toEqual(expect.arrayContaining(['users', 'sessions', 'identities', 'device_logins']));
      for (const table of tables) expect(await runner.hasTable(table)).toBe(false);
    } finally {
      await runner.release();
    }
    const ran = await ds.runMigrations();
    expect(ran).toHaveLength(applied);
    await t.createUser('alice');
    await t.login('alice');
  });
});
