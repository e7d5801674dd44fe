import accepts from 'accepts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal';

/** What Latchkey attaches to each request (Fastify's, whose `id` is the request id: see `requestIdOf`). */
export interface LatchkeyRequest extends FastifyRequest<{ Querystring: Record<string, string | string[] | undefined>; Params: Record<string, string> }> {
  /** The double-submit CSRF value of this browser (set by the CSRF check), for forms of our pages. */
  csrfToken?: string;
  /** Set by AuthenticationGuard; `null` on public/anonymous requests. */
  principal?: Principal | null;
  /** `req.ip`, read once (see clientIp). */
  clientIp?: string | null;
  /** This request's reply (set by configureApp's first hook), for code that gets only the request (passport's state store). */
  reply: LatchkeyReply;
  /** The error code of an error answer (set by the exception filters), for the log line and metrics. */
  errorCode?: string;
  /** A JSON body's bytes as received (decoded from any Content-Encoding), for a signature over them. */
  rawBody?: Buffer;
}

/** The reply handlers and filters write to. */
export type LatchkeyReply = FastifyReply;

/**
 * The client address (`req.ip`: the socket's, or the forwarded one under TRUST_PROXY), worked
 * out once per request: Fastify walks the forwarding headers again on every read of `req.ip`,
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

/** The request's path, without the query string (Fastify's `url` is the whole request target). */
export function pathOf(req: { url: string }): string {
  const q = req.url.indexOf('?');
  return q === -1 ? req.url : req.url.slice(0, q);
}

/** The route pattern that matched (`/api/v1/api-keys/:id`), never the URL; null when none did (404, errors before routing). */
export function routeOf(req: FastifyRequest): string | null {
  return req.is404 ? null : (req.routeOptions?.url ?? null);
}

/**
 * The first of `types` (`json`, `html`, or full media types) the request's Accept header
 * prefers (the `accepts` package, as Express's `req.accepts`); `false` when it accepts none. No Accept
 * header accepts the first.
 */
export function preferredType(req: FastifyRequest, types: string[]): string | false {
  const type = accepts(req.raw).type(types);
  return Array.isArray(type) ? (type[0] ?? false) : type;
}

/** Whether the client prefers HTML to JSON: a browser navigating, not an API call. */
export function prefersHtml(req: FastifyRequest): boolean {
  return preferredType(req, ['json', 'html']) === 'html';
}
