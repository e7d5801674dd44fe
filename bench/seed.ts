/**
 * Bulk seeding for the benchmarks: stored API keys and deploy tokens, straight into the tables
 * (the schema comes from the app's own migrations). A few "samples" are real credentials whose
 * secrets the benchmark sends; the rest are fillers with random keyed hashes, there to make the
 * unique secret-hash indexes as large as a big installation's. Runs on SQLite and PostgreSQL.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { firstEightOf } from '../src/api-keys/api-keys.service';
import { generateToken, hashSecret } from '../src/common/auth/token-format';
import type { AppConfig } from '../src/config/configuration';
import { dataSourceOptions } from '../src/database/data-source';
import { UPLOAD_SCOPE } from '../src/plugins/plugins.service';

const BATCH = 500;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export interface SeededSecrets {
  /** Plugin name → id, for the bench server's deploy-token route. */
  plugins: Record<string, string>;
  pluginName: string;
  apiKeys: string[];
  deployTokens: string[];
}

export class BenchSeeder {
  private constructor(
    private readonly ds: DataSource,
    private readonly pepper: Buffer,
  ) {}

  static async open(config: AppConfig): Promise<BenchSeeder> {
    const ds = new DataSource({ ...dataSourceOptions(config.database), logger: undefined, maxQueryExecutionTime: undefined });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    // A throwaway store: SQLite may keep its indexes in memory (256 MB of page cache) and skip
    // the fsyncs, so that a million random keyed hashes go in in a minute, not three.
    if (config.database.type === 'sqlite') for (const pragma of ['cache_size = -262144', 'synchronous = OFF']) await ds.query(`PRAGMA ${pragma}`);
    return new BenchSeeder(ds, config.auth.tokenPepper);
  }

  close(): Promise<void> {
    return this.ds.destroy();
  }

  /**
   * A copy of this store at `to` (another SQLite file, or another PostgreSQL schema), opened:
   * the lookups then meet the same credentials in a small store and in a large one side by side.
   */
  async copyTo(to: AppConfig): Promise<BenchSeeder> {
    const from = this.ds.options;
    if (to.database.type === 'sqlite') {
      await this.ds.query(`VACUUM INTO '${to.database.path.replace(/'/g, "''")}'`);
    } else if (from.type === 'postgres' && from.schema && to.database.schema) {
      const [source, target] = [from.schema, to.database.schema];
      await this.ds.query(`CREATE SCHEMA ${target}`);
      const tables: { table_name: string }[] = await this.ds.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`,
        [source],
      );
      for (const { table_name: table } of tables) {
        await this.ds.query(`CREATE TABLE ${target}."${table}" (LIKE ${source}."${table}" INCLUDING ALL)`);
        await this.ds.query(`INSERT INTO ${target}."${table}" SELECT * FROM ${source}."${table}"`);
      }
    } else {
      throw new Error('copyTo: both stores must be SQLite files or PostgreSQL schemas');
    }
    return BenchSeeder.open(to);
  }

  /**
   * The plugin the benchmark's deploy tokens belong to (maintained by `ownerId`), and `samples`
   * real API keys of `ownerId` and deploy tokens of that plugin.
   */
  async samples(ownerId: string, samples: number): Promise<SeededSecrets> {
    const pluginId = randomUUID();
    const pluginName = 'bench-plugin';
    await this.insert('plugins', ['id', 'name', 'display_name', 'created_by_id'], [[pluginId, pluginName, 'Bench plugin', ownerId]]);
    await this.insert('plugin_maintainers', ['plugin_id', 'user_id'], [[pluginId, ownerId]]);
    const apiKeys = Array.from({ length: samples }, () => generateToken('personalApiKey'));
    const deployTokens = Array.from({ length: samples }, () => generateToken('deployToken'));
    await this.insertAll(
      'api_keys',
      ['id', 'user_id', 'first_eight', 'secret_hash', 'note', 'scopes', 'user_epoch'],
      apiKeys.map((s, i) => [randomUUID(), ownerId, firstEightOf(s), hashSecret(this.pepper, s), `bench ${i}`, '["inherit"]', 0]),
    );
    await this.insertAll(
      'plugin_tokens',
      ['id', 'plugin_id', 'description', 'secret_hash', 'scopes', 'created_by_id'],
      deployTokens.map((s, i) => [randomUUID(), pluginId, `bench ${i}`, hashSecret(this.pepper, s), JSON.stringify([UPLOAD_SCOPE]), ownerId]),
    );
    return { plugins: { [pluginName]: pluginId }, pluginName, apiKeys, deployTokens };
  }

  /** Adds filler rows until each table holds `total` rows. */
  async fill(total: number): Promise<void> {
    const fillerUser = await this.fillerOwner();
    const keys = total - (await this.count('api_keys'));
    const keyOffset = await this.count('api_keys');
    await this.insertAll(
      'api_keys',
      ['id', 'user_id', 'first_eight', 'secret_hash', 'note', 'scopes', 'user_epoch'],
      rows(keys, (i) => [randomUUID(), fillerUser.userId, base62(keyOffset + i), randomBytes(32).toString('hex'), null, '["inherit"]', 0]),
    );
    const tokens = total - (await this.count('plugin_tokens'));
    await this.insertAll(
      'plugin_tokens',
      ['id', 'plugin_id', 'description', 'secret_hash', 'scopes', 'created_by_id'],
      rows(tokens, (i) => [randomUUID(), fillerUser.pluginId, `filler ${i}`, randomBytes(32).toString('hex'), JSON.stringify([UPLOAD_SCOPE]), null]),
    );
  }

  async userId(username: string): Promise<string> {
    const [user] = await this.ds.query(`SELECT id FROM users WHERE username = ${this.param(1)}`, [username]);
    if (!user) throw new Error(`no user ${username}`);
    return user.id;
  }

  async count(table: 'api_keys' | 'plugin_tokens'): Promise<number> {
    const [row] = await this.ds.query(`SELECT COUNT(*) AS n FROM ${table}`);
    return Number(row.n);
  }

  /** A user and a plugin that own the fillers (created once). */
  private async fillerOwner(): Promise<{ userId: string; pluginId: string }> {
    const [user] = await this.ds.query(`SELECT id FROM users WHERE username = ${this.param(1)}`, ['bench-filler']);
    const [plugin] = await this.ds.query(`SELECT id FROM plugins WHERE name = ${this.param(1)}`, ['bench-filler']);
    if (user && plugin) return { userId: user.id, pluginId: plugin.id };
    const userId = randomUUID();
    const pluginId = randomUUID();
    await this.insert('users', ['id', 'username', 'roles'], [[userId, 'bench-filler', '["user"]']]);
    await this.insert('plugins', ['id', 'name', 'display_name', 'created_by_id'], [[pluginId, 'bench-filler', 'Fillers', userId]]);
    return { userId, pluginId };
  }

  private async insertAll(table: string, columns: string[], all: Iterable<unknown[]>): Promise<void> {
    await this.ds.transaction(async (manager) => {
      let batch: unknown[][] = [];
      for (const row of all) {
        batch.push(row);
        if (batch.length === BATCH) {
          await manager.query(...this.statement(table, columns, batch));
          batch = [];
        }
      }
      if (batch.length > 0) await manager.query(...this.statement(table, columns, batch));
    });
  }

  private async insert(table: string, columns: string[], values: unknown[][]): Promise<void> {
    await this.ds.query(...this.statement(table, columns, values));
  }

  private statement(table: string, columns: string[], values: unknown[][]): [string, unknown[]] {
    let n = 0;
    const tuples = values.map((row) => `(${row.map(() => this.param(++n)).join(', ')})`);
    return [`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, values.flat()];
  }

  private param(n: number): string {
    return this.ds.options.type === 'postgres' ? `$${n}` : '?';
  }
}

function* rows(count: number, make: (i: number) => unknown[]): Iterable<unknown[]> {
  for (let i = 0; i < count; i++) yield make(i);
}

/** `n` as 8 base62 digits: unique first_eight values for one owner's fillers. */
function base62(n: number): string {
  let out = '';
  for (let i = 0; i < 8; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}
