import type { Level, Logger } from 'pino';
import type { CredentialStrategies } from '../auth/credential-strategy';
import type { AnsweredCallback } from '../http/answered';
import { clientIp, pathOf } from '../http/request-context';
import { requestFacts, type RequestFacts } from '../metrics/request-facts';
import { scrub } from './redact';

/** Probes and scrapes come every few seconds: logged at debug when they succeed. */
const QUIET_ROUTES = new Set(['/health', '/health/live', '/health/ready', '/metrics']);

/**
 * One line per request, when it is answered (or the client goes away: status 499), built from
 * known fields only: never a header, the query string or a body.
 *
 *   {"level":"info","time":"…","pid":…,"hostname":"…","reqId":"4c64e1f289ed12b9","method":"GET",
 *    "route":"/api/v1/auth/whoami","path":"/api/v1/auth/whoami","status":200,"durationMs":3.2,
 *    "credential":"access_token","principal":"fdedbe49-…","ip":"10.0.0.7","userAgent":"curl/8.5.0",
 *    "msg":"GET /api/v1/auth/whoami 200 3.2ms"}
 *
 * `errorCode` is added to error answers; `principal` is the user id (or deploy-token id). Level:
 * info; warn for 503; error for other 5xx; debug for successful probes and scrapes.
 *
 * Runs at `whenAnswered` (one `close` listener for all who watch the request) and writes through
 * the request-line logger (`createRequestLineLogger`), which skips the root logger's generic
 * redaction: the fields a client chooses (path, address, user agent) are scrubbed here, the
 * others are the server's own (a validated request id, the method, route pattern, status, enum
 * values, ids). Rather than pino-http: its per-request child loggers were the largest single
 * item of an early profile.
 */
export function requestLogger(lines: Logger, strategies: CredentialStrategies): AnsweredCallback {
  return (req, res, started) => {
    const facts = requestFacts(req, res, strategies);
    const level = levelOf(facts);
    if (!lines.isLevelEnabled(level)) return;
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const path = scrub(pathOf(req).slice(0, 256));
    const ip = clientIp(req);
    const ua = req.headers['user-agent'];
    lines[level](
      {
        reqId: req.id,
        method: req.method,
        route: facts.route,
        path,
        status: facts.status,
        durationMs,
        credential: facts.credential,
        ...(facts.principal ? { principal: facts.principal } : {}),
        ...(facts.errorCode ? { errorCode: facts.errorCode } : {}),
        ip: ip === null ? undefined : scrub(ip),
        ...(ua ? { userAgent: scrub(ua.slice(0, 200)) } : {}),
      },
      `${req.method} ${facts.route ?? path} ${facts.status} ${durationMs}ms`,
    );
  };
}

function levelOf(facts: RequestFacts): Level {
  if (facts.status === 503) return 'warn';
  if (facts.status >= 500) return 'error';
  if (facts.status < 400 && facts.route !== null && QUIET_ROUTES.has(facts.route)) return 'debug';
  return 'info';
}
