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
      for (const table of ['users', 'sessions', 'refresh_tokens', 'api_keys', 'plugins', 'plugin_maintainers', 'plugin_versions', 'plugin_tokens', 'identities']) expect(await runner.hasTable(table)).toBe(false);
    } finally {
      await runner.release();
    }
    const ran = await ds.runMigrations();
    expect(ran).toHaveLength(applied);
    await t.createUser('alice');
    await t.login('alice');
  });
});
