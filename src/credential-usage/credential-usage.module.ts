import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PluginsModule } from '../plugins/plugins.module';
import { CredentialUse } from './credential-use.entity';
import { AdminUsageLogController, ApiKeyUsageLogController, PluginTokenUsageLogController } from './credential-usage.controller';
import { CredentialUsageMiddleware } from './credential-usage.middleware';
import { CredentialUsageRecorder } from './credential-usage.recorder';
import { CredentialUsageService } from './credential-usage.service';

/**
 * The per-credential usage log of API keys and deploy tokens (the last USAGE_LOG_SIZE uses of
 * each). Sits above `api-keys` and `plugin-tokens`: it reads the principal the guard resolved
 * (middleware), so neither module nor their strategies know about it.
 */
@Module({
  imports: [TypeOrmModule.forFeature([CredentialUse]), PluginsModule],
  controllers: [ApiKeyUsageLogController, PluginTokenUsageLogController, AdminUsageLogController],
  providers: [CredentialUsageRecorder, CredentialUsageService],
})
export class CredentialUsageModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CredentialUsageMiddleware).forRoutes('{*path}');
  }
}
