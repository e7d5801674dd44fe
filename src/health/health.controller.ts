import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Controller, Get, HttpCode, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { Public } from '../common/auth/decorators';
import { AppError } from '../common/errors/app-error';
import { DependencyProbes } from './dependency-probes';
import { GracefulShutdown } from './graceful-shutdown';

const DATABASE_TIMEOUT_MS = 2000;

type Readiness = Omit<HealthCheckResult, 'status'> & { status: 'ok' | 'degraded' | 'error' | 'shutting_down' };

/**
 * Liveness and readiness for load balancers and orchestrators (outside `/api/v1`, public).
 *
 * - `/health/live` (and `/health`): the process answers. No I/O; restart the process only if this fails.
 * - `/health/ready`: 200 when the database answers `SELECT 1` within 2 s; 503 otherwise, and while
 *   shutting down. Redis (when configured) and each configured IdP are probed and reported, but a
 *   failure only makes the status `degraded` (still 200): they are shared by every instance, and
 *   everything that does not need them keeps working (DependencyProbes). Body (terminus shape):
 *   `{status, info, error, details}`, `details` keyed `database`, `redis`, `idp:<name>`.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  private readonly logger = new Logger(HealthController.name);
  private lastStatus?: Readiness['status'];

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly probes: DependencyProbes,
    private readonly shutdown: GracefulShutdown,
  ) {}

  /** Liveness (kept at its old path too). */
  @Public()
  @Get()
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness (same as /health/live)' })
  @ApiOkResponse()
  alive() {
    return { status: 'ok' };
  }

  @Public()
  @Get('live')
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process answers; no I/O' })
  @ApiOkResponse()
  live() {
    return { status: 'ok' };
  }

  @Public()
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database answers; Redis and IdPs reported (degraded, not unready)' })
  @ApiOkResponse()
  @ApiErrors('SERVICE_UNAVAILABLE')
  async ready(): Promise<Readiness> {
    const [database, soft] = await Promise.all([this.checkDatabase(), this.probes.check()]);
    const details = { ...database.details, ...soft };
    const up = pick(details, 'up');
    const down = pick(details, 'down');
    let status: Readiness['status'] = database.status === 'ok' ? (Object.keys(down).length > 0 ? 'degraded' : 'ok') : database.status;
    if (this.shutdown.draining) status = 'shutting_down';
    const result: Readiness = { status, info: up, error: down, details };
    this.report(result);
    if (status === 'ok' || status === 'degraded') return result;
    const message = status === 'shutting_down' ? 'This instance is shutting down.' : 'Not ready: the database is not reachable.';
    throw new AppError('SERVICE_UNAVAILABLE', message, { detail: result, headers: { 'Retry-After': '5' } });
  }

  /** terminus's ping, its 503 turned back into the result it carries. */
  private async checkDatabase(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.database.pingCheck('database', { timeout: DATABASE_TIMEOUT_MS })]);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
      throw error;
    }
  }

  /** One log line per change of state, not one per probe. */
  private report(result: Readiness): void {
    if (result.status === this.lastStatus) return;
    const previous = this.lastStatus;
    this.lastStatus = result.status;
    const down = Object.entries(result.error ?? {}).map(([key, value]) => `${key} (${String((value as { message?: unknown }).message ?? 'down')})`);
    if (result.status === 'ok') {
      if (previous !== undefined) this.logger.log('ready: every dependency answers');
    } else if (result.status === 'degraded') {
      this.logger.warn(`ready but degraded: ${down.join(', ')}`);
    } else {
      this.logger.warn(`not ready (${result.status}): ${down.join(', ') || 'shutting down'}`);
    }
  }
}

function pick(details: HealthIndicatorResult, status: 'up' | 'down'): HealthIndicatorResult {
  return Object.fromEntries(Object.entries(details).filter(([, value]) => value.status === status)) as HealthIndicatorResult;
}
