import { Global, Module } from '@nestjs/common';
import { RedisService } from './redis.service';

/** The optional shared Redis connection (REDIS_URL). Global: caches and rate limits use it. */
@Global()
@Module({ providers: [RedisService], exports: [RedisService] })
export class RedisModule {}
