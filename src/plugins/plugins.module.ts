import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { Plugin } from './plugin.entity';
import { PluginMaintainer } from './plugin-maintainer.entity';
import { PluginStorage } from './plugin-storage';
import { PluginVersion } from './plugin-version.entity';
import { PluginVersionsController } from './plugin-versions.controller';
import { PluginVersionsService } from './plugin-versions.service';
import { PluginsController } from './plugins.controller';
import { PluginsService } from './plugins.service';
import { UploadInterceptor } from './upload.interceptor';

@Module({
  imports: [TypeOrmModule.forFeature([Plugin, PluginMaintainer, PluginVersion]), UsersModule],
  controllers: [PluginsController, PluginVersionsController],
  providers: [PluginsService, PluginVersionsService, PluginStorage, UploadInterceptor],
  exports: [PluginsService, PluginVersionsService],
})
export class PluginsModule {}
