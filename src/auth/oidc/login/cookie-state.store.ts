import { randomBytes } from 'node:crypto';
import type { SealedBox } from '../../../common/crypto/sealed-box';
import { safeEqual } from '../../../common/auth/token-format';
import type { LatchkeyRequest } from '../../../common/http/request-context';

export const STATE_COOKIE_PREFIX = 'lk_oidc_';
const HANDLE = /^[A-Za-z0-9_-]{32}$/;

interface SealedState {
  /** The `state` sent to the IdP. */
  h: string;
  /** Provider name: a state made for one provider never completes another. */
  p: string;
  /** passport-openidconnect's context (nonce, max_age, issued). */
  c: { nonce?: string; maxAge?: number; issued?: string };
  /** The application's state (mode, return path, PKCE verifier, …). */
  s: unknown;
  /** Expiry, ms since epoch. */
  e: number;
}

/**
 * passport-openidconnect state store without express-session: the pending login (state handle,
 * nonce, app state with the PKCE verifier) is sealed (AES-256-GCM) into a short-lived cookie
 * named after the handle, so several logins can be pending in one browser and any instance
 * behind a load balancer can complete them. HttpOnly, SameSite=Lax (the IdP's redirect back is a
 * top-level GET), scoped to the provider's routes, and single use: verify() clears it.
 */
export class CookieStateStore {
  constructor(
    private readonly box: SealedBox,
    private readonly provider: string,
    private readonly cookie: { path: string; secure: boolean; ttlMs: number },
  ) {}

  store(req: LatchkeyRequest, ctx: SealedState['c'], appState: unknown, _meta: unknown, cb: (err: Error | null, handle?: string) => void): void {
    const handle = randomBytes(24).toString('base64url');
    const sealed = this.box.sealJson({ h: handle, p: this.provider, c: ctx, s: appState, e: Date.now() + this.cookie.ttlMs } satisfies SealedState);
    req.reply.setCookie(cookieName(handle), sealed, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.cookie.secure,
      path: this.cookie.path,
      maxAge: this.cookie.ttlMs / 1000,
    });
    cb(null, handle);
  }

  verify(req: LatchkeyRequest, handle: unknown, cb: (err: Error | null, ctx?: object | false, state?: unknown) => void): void {
    const refuse = (message: string) => cb(null, false, { message });
    if (typeof handle !== 'string' || !HANDLE.test(handle)) return refuse('The login answer carries no valid state.');
    const name = cookieName(handle);
    const raw = (req.cookies as Record<string, unknown> | undefined)?.[name];
    req.reply.clearCookie(name, { path: this.cookie.path, httpOnly: true, sameSite: 'lax', secure: this.cookie.secure });
    const state = typeof raw === 'string' ? this.box.openJson<SealedState>(raw) : undefined;
    if (!state || !safeEqual(state.h, handle) || state.p !== this.provider) {
      return refuse('This login was not started in this browser, or was already completed. Start it again.');
    }
    if (state.e < Date.now()) return refuse('This login took too long. Start it again.');
    return cb(null, { nonce: state.c.nonce, maxAge: state.c.maxAge, issued: state.c.issued ? new Date(state.c.issued) : undefined }, state.s);
  }
}

function cookieName(handle: string): string {
  return STATE_COOKIE_PREFIX + handle.slice(0, 16);
}
