import { PeriodicJob } from '../common/periodic-job';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../config/app.config';
import { AuditService } from './audit.service';

const INTERVAL_MS = 60 * 60 * 1000;

/** Deletes audit events older than AUDIT_RETENTION_DAYS, once an hour (and once at boot). */
@Injectable()
export class AuditRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditRetentionService.name);
  private readonly job = new PeriodicJob('audit retention', this.logger, () => this.run());

  constructor(
    private readonly audit: AuditService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.env === 'test') return; // tests call run() themselves
    this.job.start(INTERVAL_MS, { runNow: true });
  }

  onApplicationShutdown(): void {
    this.job.stop();
  }

  async run(now = new Date()): Promise<number> {
    const deleted = await this.audit.purgeOlderThan(this.config.audit.retentionDays, now);
    if (deleted > 0) this.logger.log(`deleted ${deleted} audit events older than ${this.config.audit.retentionDays} days`);
    return deleted;
  }
}
