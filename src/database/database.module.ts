import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig, APP_CONFIG } from '../config/app.config';
import { dataSourceOptions } from './data-source';

/** The TypeORM connection; migrations run at boot (`migrationsRun`), never `synchronize`. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.database),
        autoLoadEntities: true,
        migrationsRun: true,
        retryAttempts: config.env === 'test' ? 0 : 5,
        retryDelay: 2000,
      }),
    }),
  ],
})
export class DatabaseModule {}
