import { Injectable } from '@nestjs/common';
import { hashSecret } from '../auth/token-format';
import { AppConfig, InjectConfig } from '../../config/app.config';
import type { RateLimitConfig } from '../../config/configuration';
import { RateLimitStorage } from './rate-limit.storage';
import { tooManyRequests } from './too-many-requests';

const MESSAGE = 'Too many login attempts for this username.';

/**
 * The username side of password-login protection, keyed by the username as typed (normalized),
 * never by the account: an unknown name gets exactly the same buckets, delays and answers as an
 * existing one, so none of this reveals whether an account exists.
 * - a fixed-window budget of RATE_LIMIT_LOGIN_PER_USERNAME attempts (successful or not);
 * - after RATE_LIMIT_LOGIN_FAILURES failures (each within RATE_LIMIT_LOGIN_FAILURE_WINDOW of the
 *   previous one), every further attempt is refused for 1 s, then 2 s, 4 s… up to
 *   RATE_LIMIT_LOGIN_MAX_DELAY; a successful login clears both.
 * Both are refused before any password is hashed. Keys hold an HMAC of the name (people type
 * passwords into the username field), shared through Redis like every other counter.
 */
@Injectable()
export class LoginThrottle {
  private readonly limits: RateLimitConfig;
  private readonly pepper: Buffer;

  constructor(
    private readonly storage: RateLimitStorage,
    @InjectConfig() config: AppConfig,
  ) {
    this.limits = config.rateLimit;
    this.pepper = config.auth.tokenPepper;
  }

  /** Throws 429 (with Retry-After) when this username may not try now; counts the attempt. */
  async admit(username: string): Promise<void> {
    if (!this.limits.enabled) return;
    const id = this.idOf(username);
    const lockedMs = await this.storage.remaining(`login-lock:${id}`);
    if (lockedMs > 0) throw tooManyRequests(lockedMs / 1000, MESSAGE);
    const r = await this.storage.hit(`login-username:${id}`, this.limits.window * 1000, this.limits.loginPerUsername, 0);
    if (r.blocked) throw tooManyRequests(r.retryMs / 1000, MESSAGE);
  }

  /** A failed password check for this username; returns the delay now imposed (ms, 0 if none). */
  async failed(username: string): Promise<number> {
    if (!this.limits.enabled) return 0;
    const id = this.idOf(username);
    const { delayMs } = await this.storage.recordFailure(
      `login-failures:${id}`,
      `login-lock:${id}`,
      this.limits.loginFailureWindow * 1000,
      this.limits.loginFailures,
      this.limits.loginMaxDelay * 1000,
    );
    return delayMs;
  }

  /** A successful login clears the failures and any delay (not the attempt budget). */
  async succeeded(username: string): Promise<void> {
    if (!this.limits.enabled) return;
    const id = this.idOf(username);
    await this.storage.delete(`login-failures:${id}`, `login-lock:${id}`);
  }

  private idOf(username: string): string {
    return hashSecret(this.pepper, `login-username\0${username}`).slice(0, 32);
  }
}
