import { AppError } from '../errors/app-error';
import { Clock } from '../clock';
import { authTimeOf, sessionIdOf, type Principal } from './principal';

/** RECENT_LOGIN_MAX_AGE when no configuration is given (a guard built by hand in a unit test). */
export const DEFAULT_RECENT_LOGIN_MAX_AGE = 600;

/**
 * "Did this caller log in recently?" for sensitive actions (`@RecentLogin()`, and handlers whose
 * need depends on the request, such as granting the admin role).
 *
 * The login time is the principal's `authTime`: an access token's `auth_time` claim (the login
 * that opened its session; refreshing keeps it) or a browser session's creation. API keys, deploy
 * tokens and IdP offline tokens are not logins: 403 SESSION_REQUIRED. A login older than
 * `maxAgeSeconds`, or of unknown age (a token minted before `auth_time` existed), is 401
 * REAUTH_REQUIRED with an RFC 9470 step-up challenge. `maxAgeSeconds = 0` accepts any login.
 * Provided by AuthCoreModule with the configured age and the injectable Clock.
 */
export class RecentLoginPolicy {
  constructor(
    readonly maxAgeSeconds: number,
    private readonly clock: Clock,
  ) {}

  /** Throws unless `principal` comes from an interactive login at most `maxAgeSeconds` old. */
  assert(principal: Principal | null | undefined): void {
    if (!principal || !sessionIdOf(principal)) {
      throw new AppError('SESSION_REQUIRED', 'This action needs an interactive login (an access token), not an API key or a deploy token.');
    }
    if (this.maxAgeSeconds === 0) return;
    const authTime = authTimeOf(principal);
    const age = authTime === undefined ? Infinity : this.clock.now().getTime() / 1000 - authTime;
    if (age <= this.maxAgeSeconds) return;
    const message = `This action needs a recent login (within the last ${describeSeconds(this.maxAgeSeconds)}). Log in again, then retry.`;
    throw new AppError('REAUTH_REQUIRED', message, {
      headers: {
        'WWW-Authenticate': `Bearer error="insufficient_user_authentication", error_description="A more recent login is required", max_age="${this.maxAgeSeconds}"`,
      },
    });
  }
}

function describeSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? 'hour' : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? 'minute' : `${seconds / 60} minutes`;
  return seconds === 1 ? 'second' : `${seconds} seconds`;
}
