import { Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import { CredentialStrategies } from '../common/auth/credential-strategy';
import type { AnsweredCallback } from '../common/http/answered';
import type { LatchkeyRequest } from '../common/http/request-context';
import { processMetricsRegistry } from '../common/metrics/process-metrics';
import { requestFacts, type RequestFacts } from '../common/metrics/request-facts';

type RequestLabels = 'method' | 'route' | 'status' | 'credential';

/**
 * The app's HTTP metrics, in a registry of its own (one per app; the process-wide ones are in
 * `processMetricsRegistry`):
 * - `latchkey_http_request_duration_seconds{method, route, status, credential}`: every answered
 *   request (its `_count` is the request count). `route` is the pattern that matched, or
 *   `unmatched` (unknown paths, and requests answered before a route did: the shutdown gate), so junk URLs cannot grow the label set.
 * - `latchkey_auth_failures_total{reason, credential}`: 401 and 403 answers (and 400
 *   `MALFORMED_AUTHORIZATION`) by error code.
 * Per request: one `close` listener and one `observe` (plus one `inc` on an auth failure).
 */
@Injectable()
export class HttpMetrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<RequestLabels>;
  private readonly authFailures: Counter<'reason' | 'credential'>;

  constructor(private readonly strategies: CredentialStrategies) {
    this.requests = new Histogram({
      name: 'latchkey_http_request_duration_seconds',
      help: 'HTTP requests answered, by method, route pattern, status and credential kind.',
      labelNames: ['method', 'route', 'status', 'credential'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.authFailures = new Counter({
      name: 'latchkey_auth_failures_total',
      help: 'Requests refused for want of a valid credential or permission (401, 403, malformed Authorization), by error code and credential kind.',
      labelNames: ['reason', 'credential'] as const,
      registers: [this.registry],
    });
  }

  /** Counts a request once it is over (installed by configureApp through `whenAnswered`, before everything that may answer). */
  readonly answered: AnsweredCallback = (req, res, started) => this.record(req, res, started);

  /** The Prometheus text exposition of this app's and this process's metrics. */
  async text(): Promise<string> {
    const [app, processWide] = await Promise.all([this.registry.metrics(), processMetricsRegistry().metrics()]);
    return `${app}\n${processWide}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private record(req: LatchkeyRequest, res: ServerResponse, started: number): void {
    const facts = requestFacts(req, res, this.strategies);
    this.requests.observe(
      { method: req.method, route: facts.route ?? 'unmatched', status: String(facts.status), credential: facts.credential },
      (performance.now() - started) / 1000,
    );
    if (isAuthFailure(facts)) this.authFailures.inc({ reason: facts.errorCode ?? String(facts.status), credential: facts.credential });
  }
}

function isAuthFailure(facts: RequestFacts): boolean {
  return facts.status === 401 || facts.status === 403 || facts.errorCode === 'MALFORMED_AUTHORIZATION';
}
