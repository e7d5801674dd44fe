import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { Plugin } from './plugin.entity';
import { PluginInvitation } from './plugin-invitation.entity';
import { MyPluginInvitationsController, PluginInvitationsController } from './plugin-invitations.controller';
import { PluginInvitationsService } from './plugin-invitations.service';
import { PluginMaintainer } from './plugin-maintainer.entity';
import { PluginStorage } from './plugin-storage';
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
  imports: [TypeOrmModule.forFeature([Plugin, PluginMaintainer, PluginVersion, PluginInvitation]), UsersModule],
  controllers: [PluginsController, PluginInvitationsController, MyPluginInvitationsController, PluginVersionsController],
  providers: [PluginsService, PluginInvitationsService, PluginVersionsService, PluginStorage, UploadInterceptor],
  exports: [PluginsService, PluginInvitationsService, PluginVersionsService],
})
export class PluginsModule {}
