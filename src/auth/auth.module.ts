import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AccountController } from './account.controller';
import { AuthController } from './auth.controller';
import { HandshakeController } from './handshake.controller';
import { OfflineTokensService } from './oidc/offline-tokens.service';
import { OfflineTokenStrategy } from './oidc/strategies/offline-token.strategy';
import { OidcLoginController } from './oidc/login/oidc-login.controller';
import { OidcLoginService } from './oidc/login/oidc-login.service';
import { OidcProviders } from './oidc/oidc-providers';
import { PasswordProvider } from './providers/password.provider';
import { BrowserSessionsService } from './browser-sessions/browser-sessions.service';
import { BrowserSessionStrategy } from './browser-sessions/strategies/browser-session.strategy';
import { WebModule } from '../web/web.module';

@Module({
  imports: [UsersModule, SessionsModule, ApiKeysModule, WebModule],
  controllers: [HandshakeController, AuthController, AccountController, OidcLoginController],
  providers: [
    PasswordProvider,
    OidcProviders,
    OfflineTokensService,
    OfflineTokenStrategy,
    OidcLoginService,
    BrowserSessionsService,
    BrowserSessionStrategy,
  ],
})
export class AuthModule {}
