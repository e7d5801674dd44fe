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
  /** `req.ip`, read once (see clientIp). */
  clientIp?: string | null;
}

/**
 * The client address (`req.ip`: the socket's, or the forwarded one under TRUST_PROXY), worked
 * out once per request. Express parses the forwarding headers again on every read of `req.ip`,
 * and a request with an API key or a deploy token reads it three times (the credential's last
 * use, the usage log, the request log line).
 */
export function clientIp(req: LatchkeyRequest): string | null {
  if (req.clientIp === undefined) req.clientIp = plainAddress(req.ip);
  return req.clientIp;
}

/** An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, what a dual-stack socket reports) as plain IPv4. */
export function plainAddress(ip: string | undefined): string | null {
  if (!ip) return null;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return mapped ? mapped[1] : ip;
}
