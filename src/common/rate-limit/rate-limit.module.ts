import { Global, Module } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { AuthFailureLimiter } from './auth-failures';
import { LoginThrottle } from './login-throttle';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitStorage } from './rate-limit.storage';

/**
 * Rate limits (RATE_LIMIT_*): the global `RateLimitGuard` (registered as APP_GUARD in
 * app.module.ts, after the auth guards), the per-username `LoginThrottle`, the per-address
 * `AuthFailureLimiter` (AUTH_FAILURES_PER_IP, used by AuthenticationGuard), and their storage
 * (Redis when REDIS_URL is set, memory otherwise or while Redis is down). Global, like the Redis
 * module it builds on.
 */
@Global()
@Module({
  providers: [RateLimitStorage, { provide: ThrottlerStorage, useExisting: RateLimitStorage }, RateLimitGuard, LoginThrottle, AuthFailureLimiter],
  exports: [RateLimitStorage, RateLimitGuard, LoginThrottle, AuthFailureLimiter],
})
export class RateLimitModule {}
