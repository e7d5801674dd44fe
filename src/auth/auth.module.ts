import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AccountController } from './account.controller';
import { AuthController } from './auth.controller';
import { HandshakeController } from './handshake.controller';
import { DeviceLogin } from './oidc/device/device-login.entity';
import { DeviceLoginController } from './oidc/device/device-login.controller';
import { DeviceLoginsService } from './oidc/device/device-logins.service';
import { IdpExchangeLimits } from './oidc/idp-exchange-limits';
import { OfflineTokenFloor, OfflineTokenGrant, OfflineTokenLease, OfflineTokenRotation } from './oidc/offline-token-grant.entity';
import { PluginTokensModule } from '../plugin-tokens/plugin-tokens.module';
import { RevocationController } from './oauth/revocation.controller';
import { WellKnownController } from './oauth/well-known.controller';
import { IntrospectionController } from './oauth/introspection.controller';
import { IntrospectionService } from './oauth/introspection.service';
import { IdpAccessTokensService } from './oidc/idp-access-tokens.service';
import { OfflineTokensService } from './oidc/offline-tokens.service';
import { IdpAccessTokenStrategy } from './oidc/strategies/idp-access-token.strategy';
import { OfflineTokenStrategy } from './oidc/strategies/offline-token.strategy';
import { IdentityLinkController } from './oidc/login/identity-link.controller';
import { IdentityLinksService } from './oidc/login/identity-links.service';
import { OidcLoginController } from './oidc/login/oidc-login.controller';
import { OidcLoginService } from './oidc/login/oidc-login.service';
import { OidcProviders } from './oidc/oidc-providers';
import { PasswordProvider } from './providers/password.provider';
import { LoginAudit } from './login-audit';
import { BrowserSessionsService } from './browser-sessions/browser-sessions.service';
import { BrowserSessionStrategy } from './browser-sessions/strategies/browser-session.strategy';
import { HtmlModule } from '../common/html/html.module';
import { DeclareScopes } from '../common/auth/scope-catalog';

@DeclareScopes({ introspect: "Check other principals' credentials (RFC 7662) and read the revocation feed (services)" })
@Module({
  imports: [TypeOrmModule.forFeature([DeviceLogin, OfflineTokenGrant, OfflineTokenFloor, OfflineTokenRotation, OfflineTokenLease]), UsersModule, SessionsModule, ApiKeysModule, PluginTokensModule, HtmlModule],
  controllers: [HandshakeController, AuthController, AccountController, OidcLoginController, DeviceLoginController, IdentityLinkController, RevocationController, WellKnownController, IntrospectionController],
  providers: [
    PasswordProvider,
    LoginAudit,
    IntrospectionService,
    OidcProviders,
    IdpExchangeLimits,
    OfflineTokensService,
    IdpAccessTokensService,
    IdpAccessTokenStrategy,
    OfflineTokenStrategy,
    OidcLoginService,
    IdentityLinksService,
    DeviceLoginsService,
    BrowserSessionsService,
    BrowserSessionStrategy,
  ],
  // For the pages (src/web/pages): the password login form opens a browser session.
  exports: [PasswordProvider, LoginAudit, BrowserSessionsService],
})
export class AuthModule {}
