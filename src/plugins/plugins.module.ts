import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { Plugin } from './plugin.entity';
import { PluginInvitation } from './plugin-invitation.entity';
import { MyPluginInvitationsController, PluginInvitationsController } from './plugin-invitations.controller';
import { PluginInvitationsService } from './plugin-invitations.service';
import { PluginMaintainer } from './plugin-maintainer.entity';
import { DatabasePluginStorage } from './storage/database-storage';
import { DiskPluginStorage } from './storage/disk-storage';
import { PluginFilesMove } from './storage/move-to-database';
import { PluginFile, PluginFileChunk } from './storage/plugin-file.entity';
import { PluginStorage } from './storage/plugin-storage';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { PluginVersion } from './plugin-version.entity';
import { PluginVersionsController } from './plugin-versions.controller';
import { PluginVersionsService } from './plugin-versions.service';
import { PluginsController } from './plugins.controller';
import { PluginsService } from './plugins.service';
import { UploadInterceptor } from './upload.interceptor';
import { DeclareScopes } from '../common/auth/scope-catalog';

@DeclareScopes({
  'read:plugins': 'Read plugins, their versions and their maintainer-only views (audit)',
  'write:plugins': 'Create plugins, manage their maintainers and deploy tokens, upload versions',
})
@Module({
  imports: [TypeOrmModule.forFeature([Plugin, PluginMaintainer, PluginVersion, PluginInvitation, PluginFile, PluginFileChunk]), UsersModule],
  controllers: [PluginsController, PluginInvitationsController, MyPluginInvitationsController, PluginVersionsController],
  providers: [
    PluginsService,
    PluginInvitationsService,
    PluginVersionsService,
    DiskPluginStorage,
    DatabasePluginStorage,
    // The store PLUGIN_STORAGE names; the other stays available to the CLI's move between them.
    {
      provide: PluginStorage,
      inject: [APP_CONFIG, DiskPluginStorage, DatabasePluginStorage],
      useFactory: (config: AppConfig, disk: DiskPluginStorage, database: DatabasePluginStorage) => (config.plugins.storage === 'database' ? database : disk),
    },
    UploadInterceptor,
    PluginFilesMove,
  ],
  exports: [PluginsService, PluginInvitationsService, PluginVersionsService, PluginFilesMove],
})
export class PluginsModule {}
