import { AppError } from '../errors/app-error';
import { safeEqual } from '../auth/token-format';
import { CREDENTIAL_COOKIES, SESSION_COOKIE } from '../auth/credentials';
import { CSRF_COOKIE, CsrfTokens } from './csrf-tokens';
import type { LatchkeyReply, LatchkeyRequest } from './request-context';

export { CSRF_COOKIE };
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Double-submit CSRF protection as in the Tiled contract §11, with the token bound to the
 * browser session (CsrfTokens).
 * - A response to a request without a usable `tiled_csrf` cookie sets a fresh one (HttpOnly,
 *   SameSite=Lax, Path=/, Secure when PUBLIC_URL is https). Usable: present, and — when the
 *   request carries a browser session cookie (`lk_session`) — made for that session. The Tiled
 *   client requires the cookie after the handshake; a page load heals a stale or planted one.
 * - A state-changing request that carries a credential cookie (API key or browser session: a
 *   browser sends those on its own) must echo the cookie's value in `x-csrf` (or `?csrf=`, or
 *   a `csrf` form field), and with a browser session the cookie must be bound to it. Clients
 *   that send `Authorization` and no credential cookie are never checked: a browser cannot forge
 *   that header.
 */
export class CsrfCheck {
  constructor(private readonly tokens: CsrfTokens) {}

  /** A `preValidation` hook (`configureApp`): after the body is parsed (a form post sends its token as the `csrf` field). */
  readonly check = (req: LatchkeyRequest, reply: LatchkeyReply, done: (error?: Error) => void): void => {
    try {
      this.verify(req, reply);
    } catch (error) {
      return done(error as Error);
    }
    done();
  };

  private verify(req: LatchkeyRequest, reply: LatchkeyReply): void {
    const cookies = (req.cookies ?? {}) as Record<string, unknown>;
    const cookie = nonEmpty(cookies[CSRF_COOKIE]);
    const session = nonEmpty(cookies[SESSION_COOKIE]);
    const usable = cookie !== undefined && (session === undefined || this.tokens.isBoundTo(cookie, session));
    req.csrfToken = usable ? cookie : this.tokens.issue(reply, session);
    if (!SAFE_METHODS.has(req.method) && CREDENTIAL_COOKIES.some((name) => typeof cookies[name] === 'string')) {
      if (!cookie) throw new AppError('CSRF_FAILED', 'Expected tiled_csrf cookie');
      // A form post of Latchkey's own pages sends it as the `csrf` field.
      const field = (req.body as Record<string, unknown> | undefined)?.csrf;
      const header = req.headers['x-csrf'] ?? (req.query as Record<string, unknown> | undefined)?.csrf ?? field;
      if (typeof header !== 'string' || header.length === 0) {
        throw new AppError('CSRF_FAILED', 'Expected csrf query parameter or x-csrf header');
      }
      if (!safeEqual(header, cookie)) throw new AppError('CSRF_FAILED', 'Double-submit CSRF tokens do not match');
      if (!usable) throw new AppError('CSRF_FAILED', 'The CSRF token does not belong to this browser session: reload the page and try again.');
    }
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
