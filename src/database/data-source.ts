import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/configuration';
import { MIGRATIONS } from './migrations';
import { TypeOrmLogger } from './typeorm-logger';

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
      connectTimeoutMS: 3000,
      extra: { max: 10, connectionTimeoutMillis: 3000, query_timeout: 10000 },
    };
  }
  return { ...common, type: 'sqlite', database: db.path, enableWAL: db.path !== ':memory:', busyErrorRetry: 50 };
}
