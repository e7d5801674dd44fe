import { Injectable } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { TtlCache } from '../cache/ttl-cache';
import { clientIp, type LatchkeyRequest } from '../http/request-context';
import type { AppError } from '../errors/app-error';
import { clientAddressKey } from './client-address';
import { RateLimitStorage } from './rate-limit.storage';
import { tooManyRequests } from './too-many-requests';

const MESSAGE = 'Too many failed authentication attempts from this address.';
/** Addresses remembered as blocked on this instance (a flood of addresses drops the oldest). */
const MAX_BLOCKED = 100_000;

/**
 * Failed authentication per client address (an IPv6 client by its /64), issue 16 §5: every
 * refused credential (API key, deploy token, access token, IdP offline token, session cookie; and
 * whatever else a module reports through `failed`) counts, and once an address has used up
 * AUTH_FAILURES_PER_IP in a RATE_LIMIT_WINDOW it is refused with 429 + Retry-After on every route,
 * before its credential is even looked up, until the window ends.
 *
 * Cheap on the hot path: `refusal` is one Map lookup in this instance's "blocked until" list, and
 * only a failure touches the counter (Redis when REDIS_URL is set, so every instance adds to the
 * same count; memory otherwise). An instance learns that an address is over budget from its own
 * next failure of that address, so with N instances a blocked address gets at most one more
 * looked-up failure per other instance. RATE_LIMIT_ENABLED=false turns it off.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly enabled: boolean;
  private readonly budget: number;
  private readonly windowMs: number;
  /** address key → blocked until (ms since epoch). */
  private readonly blocked: TtlCache<number>;

  constructor(
    private readonly storage: RateLimitStorage,
    @InjectConfig() config: AppConfig,
  ) {
    this.enabled = config.rateLimit.enabled;
    this.budget = config.rateLimit.authFailuresPerIp;
    this.windowMs = config.rateLimit.window * 1000;
    this.blocked = new TtlCache(this.windowMs, MAX_BLOCKED);
  }

  /** The 429 for a request whose address is over its failure budget, or null (synchronous, no I/O). */
  refusal(req: LatchkeyRequest): AppError | null {
    if (!this.enabled || this.blocked.size === 0) return null;
    return this.refusalFor(clientAddressKey(clientIp(req) ?? undefined));
  }

  /** As `refusal`, for a client address (as `req.ip` gives it). */
  refusalFor(addressKey: string): AppError | null {
    const until = this.blocked.get(addressKey);
    return until === undefined ? null : tooManyRequests((until - Date.now()) / 1000, MESSAGE);
  }

  /** Counts one failed credential check of this request's address. */
  failed(req: LatchkeyRequest): Promise<void> {
    return this.failedFrom(clientIp(req));
  }

  /**
   * Counts one failed credential check from `ip` (a refused IdP exchange, a bad refresh token…);
   * from the failure that uses up the budget on, the address is refused until the window ends.
   */
  async failedFrom(ip: string | null | undefined): Promise<void> {
    if (!this.enabled) return;
    const key = clientAddressKey(ip ?? undefined);
    // Limit budget - 1: the failure that reaches the budget already blocks the next request.
    const r = await this.storage.hit(`auth-failures:ip:${key}`, this.windowMs, this.budget - 1, 0);
    if (r.blocked) this.blocked.set(key, Date.now() + Math.max(r.retryMs, 1000), Date.now() + Math.max(r.retryMs, 1000));
  }
}
