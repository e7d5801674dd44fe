import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { AccessTokenService } from './access-token.service';
import { RefreshToken } from './refresh-token.entity';
import { Session } from './session.entity';
import { RevokedSessions } from './revoked-sessions';
import { SessionsService } from './sessions.service';
import { SessionsPurgeService } from './sessions-purge.service';
import { AccessTokenStrategy } from './strategies/access-token.strategy';

@Module({
  imports: [TypeOrmModule.forFeature([Session, RefreshToken]), UsersModule],
  providers: [SessionsService, SessionsPurgeService, AccessTokenService, AccessTokenStrategy, RevokedSessions],
  exports: [SessionsService, AccessTokenService],
})
export class SessionsModule {}
