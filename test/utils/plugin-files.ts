import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { APP_CONFIG, type AppConfig } from '../../src/config/app.config';
import type { TestApp } from './create-test-app';

/**
 * What the app's plugin store holds (PLUGIN_STORAGE: the disk directory, or the database tables):
 * stored and incoming file keys, and (database) chunk rows. For "a failed upload leaves nothing
 * behind" on either store.
 */
export function pluginFiles(t: TestApp) {
  const config = t.app.get<AppConfig>(APP_CONFIG);
  const dir = config.plugins.storageDir;
  const keys = async (state: 'stored' | 'incoming'): Promise<string[]> => {
    if (config.plugins.storage === 'disk') {
      return state === 'stored' ? readdirSync(dir).filter((f) => f !== '.incoming') : readdirSync(join(dir, '.incoming'));
    }
    const rows: { key: string }[] = await t.dataSource.query(`SELECT key FROM ${t.table('plugin_files')} WHERE state = '${state}' ORDER BY key`);
    return rows.map((r) => r.key);
  };
  return {
    store: config.plugins.storage,
    stored: () => keys('stored'),
    incoming: () => keys('incoming'),
    /** Chunk rows (the database store; 0 on disk). */
    chunks: async (): Promise<number> => {
      if (config.plugins.storage === 'disk') return 0;
      const [row] = await t.dataSource.query(`SELECT COUNT(*) AS n FROM ${t.table('plugin_file_chunks')}`);
      return Number(row.n);
    },
  };
}
