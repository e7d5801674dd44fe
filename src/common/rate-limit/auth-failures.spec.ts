import type { AppConfig } from '../../config/app.config';
import type { LatchkeyRequest } from '../http/request-context';
import type { RedisService } from '../redis/redis.service';
import { AuthFailureLimiter } from './auth-failures';
import { RateLimitStorage } from './rate-limit.storage';

const req = (ip: string) => ({ ip }) as unknown as LatchkeyRequest;

describe('AuthFailureLimiter (memory counters)', () => {
  let storage: RateLimitStorage;
  const limiter = (budget: number, enabled = true) =>
    new AuthFailureLimiter(storage, { rateLimit: { enabled, window: 60, authFailuresPerIp: budget } } as unknown as AppConfig);
  beforeEach(() => (storage = new RateLimitStorage({ client: undefined } as unknown as RedisService)));
  afterEach(() => storage.onApplicationShutdown());

  it('refuses an address from the failure that uses up its budget on, with the time left; others are free', async () => {
    const l = limiter(3);
    for (let i = 0; i < 2; i++) await l.failed(req('203.0.113.1'));
    expect(l.refusal(req('203.0.113.1'))).toBeNull();
    await l.failedFrom('203.0.113.1');
    const refusal = l.refusal(req('203.0.113.1'));
    expect(refusal?.status).toBe(429);
    expect(Number(refusal?.options.headers?.['Retry-After'])).toBeGreaterThanOrEqual(59);
    expect(l.refusal(req('203.0.113.2'))).toBeNull();
    expect(l.refusalFor('203.0.113.1')?.status).toBe(429);
  });

  it('counts an IPv6 client by its /64; does nothing when rate limits are off', async () => {
    const l = limiter(1);
    await l.failed(req('2001:db8:1:2::1'));
    expect(l.refusal(req('2001:db8:1:2::ffff'))?.status).toBe(429);
    const off = limiter(1, false);
    await off.failed(req('203.0.113.3'));
    expect(off.refusal(req('203.0.113.3'))).toBeNull();
  });
});
