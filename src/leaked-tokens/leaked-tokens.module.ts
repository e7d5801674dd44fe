import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { PluginTokensModule } from '../plugin-tokens/plugin-tokens.module';
import { SessionsModule } from '../sessions/sessions.module';
import { LeakedTokensController } from './leaked-tokens.controller';
import { LeakedTokensService } from './leaked-tokens.service';

/** Leaked-token reports: GitHub's secret scanning and the public report form (issue 22). */
@Module({
  imports: [ApiKeysModule, PluginTokensModule, SessionsModule],
  controllers: [LeakedTokensController],
  providers: [LeakedTokensService],
  exports: [LeakedTokensService],
})
export class LeakedTokensModule {}
