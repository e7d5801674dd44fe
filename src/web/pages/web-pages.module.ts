import { Module } from '@nestjs/common';
import { AdminModule } from '../../admin/admin.module';
import { ApiKeysModule } from '../../api-keys/api-keys.module';
import { AuthModule } from '../../auth/auth.module';
import { PluginTokensModule } from '../../plugin-tokens/plugin-tokens.module';
import { PluginsModule } from '../../plugins/plugins.module';
import { SessionsModule } from '../../sessions/sessions.module';
import { UsersModule } from '../../users/users.module';
import { HtmlModule } from '../../common/html/html.module';
import { LeakedTokensModule } from '../../leaked-tokens/leaked-tokens.module';
import { TrustedPublishingModule } from '../../trusted-publishing/trusted-publishing.module';
import { AccountPageController } from './account.page';
import { AdminPageController } from './admin.page';
import { LoginPageController } from './login.page';
import { PluginsPageController } from './plugins.page';
import { ReportLeakPageController } from './report-leak.page';

/** Every page controller: app.setup.ts keeps their routes out of the /api/v1 prefix (page-routes.ts). */
export const PAGE_CONTROLLERS = [LoginPageController, AccountPageController, PluginsPageController, AdminPageController, ReportLeakPageController];

/**
 * The pages for people. Like AdminModule, a consumer at the top of the dependency graph: it calls
 * the owning services (users, sessions, browser sessions, API keys, plugins, deploy tokens,
 * trusted publishers, audit) and owns no table. The renderer (PagesService) is HtmlModule's, which AuthModule uses too.
 */
@Module({
  imports: [HtmlModule, AuthModule, UsersModule, SessionsModule, ApiKeysModule, PluginsModule, PluginTokensModule, AdminModule, LeakedTokensModule, TrustedPublishingModule],
  controllers: PAGE_CONTROLLERS,
})
export class WebPagesModule {}
