import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { clientAddressKey } from '../../common/rate-limit/client-address';
import { RateLimitStorage } from '../../common/rate-limit/rate-limit.storage';
import { QueueFullError, Semaphore } from '../../common/rate-limit/semaphore';
import { tooManyRequests } from '../../common/rate-limit/too-many-requests';
import { AppConfig, InjectConfig } from '../../config/app.config';

/**
 * How much of the IdPs an anonymous client can use: every offline-token exchange that misses the
 * caches (memory and Redis) costs the IdP a token request made with Latchkey's client credentials.
 * - `admit`: a budget of OIDC_EXCHANGES_PER_IP exchanges per client address (IPv6 by /64) and
 *   RATE_LIMIT_WINDOW, counted in Redis when REDIS_URL is set (shared by every instance);
 *   beyond it 429 with `Retry-After`. Off with RATE_LIMIT_ENABLED=false, like every rate limit.
 * - `run`: at most OIDC_EXCHANGE_CONCURRENCY exchanges at once on this instance, OIDC_EXCHANGE_QUEUE
 *   more waiting; beyond, 503 with `Retry-After` (a slow IdP must not pile up requests).
 * - `refused`: a token the IdP refused is a failed login of that address: it costs one attempt of
 *   the address's login budget (RATE_LIMIT_LOGIN_PER_IP, the bucket password logins and device
 *   polls count in), so a client guessing tokens also loses its password attempts.
 */
@Injectable()
export class IdpExchangeLimits {
  private readonly gate: Semaphore;
  private readonly enabled: boolean;
  private readonly windowMs: number;
  private readonly perIp: number;
  private readonly loginPerIp: number;

  constructor(
    private readonly storage: RateLimitStorage,
    @InjectConfig() config: AppConfig,
  ) {
    const { exchanges } = config.oidc;
    this.gate = new Semaphore(exchanges.concurrency, exchanges.queue);
    this.enabled = config.rateLimit.enabled;
    this.windowMs = config.rateLimit.window * 1000;
    this.perIp = exchanges.perIp;
    this.loginPerIp = config.rateLimit.loginPerIp;
  }

  /** Counts one exchange for this address; 429 beyond its budget (before any IdP call). */
  async admit(ip: string | null | undefined): Promise<void> {
    if (!this.enabled) return;
    const r = await this.storage.hit(`idp-exchange:ip:${clientAddressKey(ip ?? undefined)}`, this.windowMs, this.perIp, 0);
    if (r.blocked) throw tooManyRequests(r.retryMs / 1000, 'Too many new identity-provider tokens from this address.');
  }

  /** Runs one exchange within the concurrency cap; 503 with Retry-After when every slot and the queue are taken. */
  async run<T>(exchange: () => Promise<T>): Promise<T> {
    try {
      return await this.gate.run(exchange);
    } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
      throw new AppError('SERVICE_UNAVAILABLE', 'Too many identity-provider token checks in progress. Retry shortly.', {
        headers: { 'Retry-After': '1' },
      });
    }
  }

  /** The IdP refused a token presented from this address: one failed login there. */
  async refused(ip: string | null | undefined): Promise<void> {
    if (!this.enabled) return;
    await this.storage.hit(`login:ip:${clientAddressKey(ip ?? undefined)}`, this.windowMs, this.loginPerIp, 0);
  }
}
