import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AccountController } from './account.controller';
import { AuthController } from './auth.controller';
import { HandshakeController } from './handshake.controller';
import { PasswordProvider } from './providers/password.provider';

@Module({
  imports: [UsersModule, SessionsModule, ApiKeysModule],
  controllers: [HandshakeController, AuthController, AccountController],
  providers: [PasswordProvider],
})
export class AuthModule {}
