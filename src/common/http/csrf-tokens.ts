import { createHmac } from 'node:crypto';
import type { LatchkeyReply, LatchkeyRequest } from './request-context';
import { SESSION_COOKIE } from '../auth/credentials';
import { safeEqual } from '../auth/token-format';
import { randomFromPool } from '../crypto/random-pool';

/** The double-submit cookie. Its name is the Tiled contract's (§11): the Tiled client reads it by name. */
export const CSRF_COOKIE = 'tiled_csrf';

/**
 * The values of the `tiled_csrf` cookie: a signed double submit (OWASP CSRF cheat sheet, "Signed
 * Double-Submit Cookie"). Without a browser session the token is 43 url-safe random characters,
 * as Tiled sends. For a browser session it is `<nonce>.<HMAC(key, nonce, session cookie)>`: only
 * the server can make one, and only for that session, so a cookie an attacker plants (from a
 * sibling subdomain or over http://) — even a valid token of the attacker's own session — fails
 * on the victim's session. The key is derived from TOKEN_PEPPER for this one purpose.
 *
 * Hand-written on purpose: no CSRF library is installed, and the binding is one HMAC.
 */
export class CsrfTokens {
  private readonly key: Buffer;
  /** The cookie's attributes (Tiled contract §11): one path, HttpOnly, Lax, Secure over https. */
  private readonly attributes: string;

  constructor(
    pepper: Buffer,
    /** Secure cookie (PUBLIC_URL is https). */
    readonly secure: boolean,
  ) {
    this.key = createHmac('sha256', pepper).update('latchkey csrf-token binding v1').digest();
    this.attributes = `; Path=/; HttpOnly${secure ? '; Secure' : ''}; SameSite=Lax`;
  }

  /** A fresh token, bound to `session` (the browser session cookie's value) when there is one. */
  create(session?: string): string {
    const nonce = randomFromPool(32).toString('base64url');
    return session === undefined ? nonce : `${nonce}.${this.mac(nonce, session)}`;
  }

  /** Whether `token` was made by this server for the browser session `session`. */
  isBoundTo(token: string, session: string): boolean {
    const dot = token.indexOf('.');
    return dot > 0 && safeEqual(token.slice(dot + 1), this.mac(token.slice(0, dot), session));
  }

  /**
   * Sets a fresh `tiled_csrf` cookie (bound to `session` if given) on `reply`; returns its value.
   * The header is written directly (what `reply.setCookie` would write: the token is base64url
   * and `.`, nothing to encode), as every response to a request without the cookie carries one;
   * Fastify adds a `set-cookie` header to those already set.
   */
  issue(reply: LatchkeyReply, session?: string): string {
    const token = this.create(session);
    reply.header('set-cookie', `${CSRF_COOKIE}=${token}${this.attributes}`);
    return token;
  }

  /**
   * A new token for this browser at a login that opens no browser session (a device-code
   * approver's IdP login): bound to the browser session it already has, if any. Sets the cookie
   * and `req.csrfToken` (for the form this response renders).
   */
  rotate(req: LatchkeyRequest, reply: LatchkeyReply): string {
    const session = (req.cookies as Record<string, unknown> | undefined)?.[SESSION_COOKIE];
    req.csrfToken = this.issue(reply, typeof session === 'string' && session.length > 0 ? session : undefined);
    return req.csrfToken;
  }

  private mac(nonce: string, session: string): string {
    return createHmac('sha256', this.key).update(nonce).update('\0').update(session).digest('base64url');
  }
}
