import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { Public } from '../common/auth/decorators';
import { safeEqual } from '../common/auth/token-format';
import { AppError } from '../common/errors/app-error';
import { AppConfig, InjectConfig } from '../config/app.config';
import { HttpMetrics } from './http-metrics';
import type { LatchkeyReply } from '../common/http/request-context';

/**
 * `GET /metrics` (outside `/api/v1`), Prometheus text format, for whoever holds METRICS_TOKEN.
 *
 * Why a static token and not a Latchkey credential (Tiled's `metrics` scope): the scrape must
 * work exactly when the service is in trouble, e.g. with the database down (an API-key lookup
 * would need it), must not depend on the authentication path it measures, and must not show up
 * as credential use. `@Public()` only tells the global guard not to read the header; this
 * handler checks it. Without METRICS_TOKEN the route answers 404. Nothing in the output is a
 * secret: counts by route pattern, status, credential kind and error code, cache counters,
 * IdP latency, process figures.
 */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  private readonly expected?: string;

  constructor(
    private readonly metrics: HttpMetrics,
    @InjectConfig() config: AppConfig,
  ) {
    this.expected = config.metricsToken === undefined ? undefined : `Bearer ${config.metricsToken}`;
  }

  @Public()
  @Get()
  @ApiOperation({ summary: 'Prometheus metrics (Authorization: Bearer <METRICS_TOKEN>)', description: 'Needs METRICS_TOKEN as a bearer token; 404 when METRICS_TOKEN is not set.' })
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4' })
  @ApiErrors('NOT_FOUND', 'AUTH_REQUIRED', 'AUTH_INVALID_TOKEN')
  async scrape(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) res: LatchkeyReply): Promise<string> {
    if (this.expected === undefined) throw new AppError('NOT_FOUND', 'Metrics are not enabled on this instance (METRICS_TOKEN is not set).');
    if (authorization === undefined) {
      throw new AppError('AUTH_REQUIRED', 'Send "Authorization: Bearer <METRICS_TOKEN>".', { headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' } });
    }
    if (!safeEqual(authorization, this.expected)) {
      throw new AppError('AUTH_INVALID_TOKEN', 'Invalid metrics token.', { headers: { 'WWW-Authenticate': 'Bearer realm="metrics", error="invalid_token"' } });
    }
    res.header('Content-Type', this.metrics.contentType);
    res.header('Cache-Control', 'no-store');
    return this.metrics.text();
  }
}
