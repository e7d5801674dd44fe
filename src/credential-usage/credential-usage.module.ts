import { Module } from '@nestjs/common';
import { AnsweredRequests } from '../common/http/answered';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PluginsModule } from '../plugins/plugins.module';
import { CredentialUse } from './credential-use.entity';
import { AdminUsageLogController, ApiKeyUsageLogController, PluginTokenUsageLogController } from './credential-usage.controller';
import { CredentialUsageRecorder } from './credential-usage.recorder';
import { CredentialUsageService } from './credential-usage.service';
import { recordUses } from './credential-usage.watch';

/**
 * The per-credential usage log of API keys and deploy tokens (the last USAGE_LOG_SIZE uses of
 * each). Sits above `api-keys` and `plugin-tokens`: it reads the principal the guard resolved
 * (once a request is answered, `recordUses`), so neither module nor their strategies know about it.
 */
@Module({
  imports: [TypeOrmModule.forFeature([CredentialUse]), PluginsModule],
  controllers: [ApiKeyUsageLogController, PluginTokenUsageLogController, AdminUsageLogController],
  providers: [CredentialUsageRecorder, CredentialUsageService],
})
export class CredentialUsageModule {
  constructor(answered: AnsweredRequests, recorder: CredentialUsageRecorder) {
    answered.watch(recordUses(recorder));
  }
}
