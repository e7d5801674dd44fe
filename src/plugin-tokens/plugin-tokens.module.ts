import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PluginsModule } from '../plugins/plugins.module';
import { PluginToken } from './plugin-token.entity';
import { PluginTokenUsageRecorder } from './plugin-token-usage.recorder';
import { MyPluginTokensController, PluginTokensController } from './plugin-tokens.controller';
import { PluginTokensService } from './plugin-tokens.service';
import { PluginTokenStrategy } from './strategies/plugin-token.strategy';
import { DeclareScopes } from '../common/auth/scope-catalog';

@DeclareScopes({ 'plugin:upload': "Upload versions of the deploy token's plugin (deploy tokens only)" })
@Module({
  imports: [TypeOrmModule.forFeature([PluginToken]), PluginsModule],
  controllers: [PluginTokensController, MyPluginTokensController],
  providers: [PluginTokensService, PluginTokenUsageRecorder, PluginTokenStrategy],
  exports: [PluginTokensService],
})
export class PluginTokensModule {}
