import type { Request } from 'express';
import type { Principal } from '../auth/principal';

/** What Latchkey attaches to each Express request. */
export interface LatchkeyRequest extends Request {
  /** Set by RequestIdMiddleware on every request. */
  id: string;
  /** The double-submit CSRF value of this browser (set by CsrfMiddleware), for forms of our pages. */
  csrfToken?: string;
  /** Set by AuthenticationGuard; `null` on public/anonymous requests. */
  principal?: Principal | null;
}
