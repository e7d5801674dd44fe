import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AccountController } from './account.controller';
import { AuthController } from './auth.controller';
import { HandshakeController } from './handshake.controller';
import { OfflineTokensService } from './oidc/offline-tokens.service';
import { OfflineTokenStrategy } from './oidc/strategies/offline-token.strategy';
import { PasswordProvider } from './providers/password.provider';

@Module({
  imports: [UsersModule, SessionsModule, ApiKeysModule],
  controllers: [HandshakeController, AuthController, AccountController],
  providers: [PasswordProvider, OfflineTokensService, OfflineTokenStrategy],
})
export class AuthModule {}
