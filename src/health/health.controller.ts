import { Controller, Get, HttpCode } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Public } from '../common/auth/decorators';
import { AppError } from '../common/errors/app-error';

const READY_TIMEOUT_MS = 2000;

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Liveness: the process answers. */
  @Public()
  @Get()
  @HttpCode(200)
  @ApiOkResponse()
  live() {
    return { status: 'ok' };
  }

  /** Readiness: the database answers within two seconds. */
  @Public()
  @Get('ready')
  @ApiOkResponse()
  @ApiServiceUnavailableResponse()
  async ready() {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS);
    });
    try {
      if (!this.dataSource.isInitialized) throw new Error('not initialized');
      await Promise.race([this.dataSource.query('SELECT 1'), timeout]);
      return { status: 'ready', database: 'up' };
    } catch {
      throw new AppError('SERVICE_UNAVAILABLE', 'The database is not reachable.', { headers: { 'Retry-After': '5' } });
    } finally {
      clearTimeout(timer);
    }
  }
}
