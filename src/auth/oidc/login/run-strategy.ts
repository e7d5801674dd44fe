import type { Strategy } from 'passport-strategy';
import type { LatchkeyRequest } from '../../../common/http/request-context';

/** How one passport strategy attempt ended (the passport-strategy contract, as a value). */
export type StrategyOutcome =
  | { type: 'success'; user: unknown; info: unknown }
  | { type: 'fail'; challenge: unknown; status?: number }
  | { type: 'redirect'; url: string }
  | { type: 'error'; error: unknown }
  | { type: 'pass' };

/**
 * Runs one attempt of a passport strategy and resolves with its outcome: what passport's own
 * middleware does (a per-request `Object.create(strategy)` with success/fail/redirect/error/pass
 * bound), without the global passport singleton, req.login or express-session, and as a promise
 * a Nest controller can await.
 */
export function runStrategy(strategy: Strategy, req: LatchkeyRequest, options: object): Promise<StrategyOutcome> {
  return new Promise((resolve) => {
    const attempt = Object.create(strategy) as Strategy & Record<string, unknown>;
    attempt.success = (user: unknown, info: unknown) => resolve({ type: 'success', user, info });
    attempt.fail = (challenge: unknown, status?: number) =>
      resolve(typeof challenge === 'number' ? { type: 'fail', challenge: undefined, status: challenge } : { type: 'fail', challenge, status });
    attempt.redirect = (url: string) => resolve({ type: 'redirect', url });
    attempt.error = (error: unknown) => resolve({ type: 'error', error });
    attempt.pass = () => resolve({ type: 'pass' });
    try {
      attempt.authenticate(req as unknown as Parameters<Strategy['authenticate']>[0], options);
    } catch (error) {
      resolve({ type: 'error', error });
    }
  });
}
