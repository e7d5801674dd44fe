import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RevocationEvent } from './revocation-event.entity';
import { RevocationFeedController } from './revocation-feed.controller';
import { RevocationFeed } from './revocation-feed.service';

/**
 * The revocation feed (`GET /auth/revocations`). Global: the modules that revoke (users,
 * sessions, API keys, deploy tokens) report to `RevocationFeed.record()` without importing it.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([RevocationEvent])],
  controllers: [RevocationFeedController],
  providers: [RevocationFeed],
  exports: [RevocationFeed],
})
export class RevocationFeedModule {}
