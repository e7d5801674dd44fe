import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { PluginTokensModule } from '../plugin-tokens/plugin-tokens.module';
import { PluginsModule } from '../plugins/plugins.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AdminCredentialsController } from './admin-credentials.controller';
import { AdminIdentitiesController } from './admin-identities.controller';
import { AdminCredentialsService } from './admin-credentials.service';
import { AdminPluginsController } from './admin-plugins.controller';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersService } from './admin-users.service';
import { TiledPrincipalsController } from './tiled-principals.controller';
import { DeclareScopes } from '../common/auth/scope-catalog';

/**
 * Administration: `/admin/users`, `/admin/credentials`, `/admin/plugins` (role admin, class
 * level) and Tiled's `/auth/principal…` (by scope, as Tiled). A consumer at the top of the
 * dependency graph: it calls the owning services (users, sessions, API keys, plugins, deploy
 * tokens) and owns no table. The audit log's `/admin/audit` lives with the audit module.
 */
@DeclareScopes({
  'read:principals': 'List and read users and service principals (administrators)',
  'write:principals': 'Create service principals (administrators)',
})
@Module({
  imports: [UsersModule, SessionsModule, ApiKeysModule, PluginsModule, PluginTokensModule],
  controllers: [AdminUsersController, AdminIdentitiesController, AdminCredentialsController, AdminPluginsController, TiledPrincipalsController],
  providers: [AdminUsersService, AdminCredentialsService],
  exports: [AdminUsersService],
})
export class AdminModule {}
