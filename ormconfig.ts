import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/configuration';
import { dataSourceOptions } from './src/database/data-source';

/**
 * The DataSource the TypeORM CLI uses (`npm run migration:run|revert`): same database and
 * migrations as the server, chosen by the same environment variables.
 */
export default new DataSource(dataSourceOptions(loadConfig(process.env).database, [__dirname + '/src/**/*.entity.{js,ts}']));
