export { RateLimit, RATE_LIMIT_CLASSES, type RateLimitClass } from './rate-limit.decorator';
export { AuthFailureLimiter } from './auth-failures';
export { LoginThrottle } from './login-throttle';
export { RateLimitGuard } from './rate-limit.guard';
export { RateLimitModule } from './rate-limit.module';
export { RateLimitStorage } from './rate-limit.storage';
export { QueueFullError, Semaphore } from './semaphore';
export { tooManyRequests } from './too-many-requests';
