import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../config/app.config';
import { AuditService } from './audit.service';

const INTERVAL_MS = 60 * 60 * 1000;

/** Deletes audit events older than AUDIT_RETENTION_DAYS, once an hour (and once at boot). */
@Injectable()
export class AuditRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditRetentionService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly audit: AuditService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.env === 'test') return; // tests call run() themselves
    const tick = () => void this.run().catch((error: Error) => this.logger.warn(`audit retention failed: ${error.message}`));
    tick();
    this.timer = setInterval(tick, INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async run(now = new Date()): Promise<number> {
    const deleted = await this.audit.purgeOlderThan(this.config.audit.retentionDays, now);
    if (deleted > 0) this.logger.log(`deleted ${deleted} audit events older than ${this.config.audit.retentionDays} days`);
    return deleted;
  }
}
