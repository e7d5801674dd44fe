import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PluginTokensModule } from '../plugin-tokens/plugin-tokens.module';
import { PluginsModule } from '../plugins/plugins.module';
import { TrustedPublisher } from './trusted-publisher.entity';
import { TrustedPublishersController, TrustedPublishingController } from './trusted-publishing.controller';
import { TrustedPublishingService } from './trusted-publishing.service';
import { UsedCiToken } from './used-ci-token.entity';

/** Trusted publishing: CI jobs exchange their OIDC ID token for a 15-minute deploy token (docs/trusted-publishing.md). */
@Module({
  imports: [TypeOrmModule.forFeature([TrustedPublisher, UsedCiToken]), PluginsModule, PluginTokensModule],
  controllers: [TrustedPublishersController, TrustedPublishingController],
  providers: [TrustedPublishingService],
  exports: [TrustedPublishingService],
})
export class TrustedPublishingModule {}
