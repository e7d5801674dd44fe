import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThan, Not, Repository } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';
import { PeriodicJob } from '../common/periodic-job';
import { RefreshToken } from './refresh-token.entity';
import { Session } from './session.entity';

const PURGE_INTERVAL_MS = 10 * 60 * 1000;
/** Revoked sessions stay listed (whoami shows `revoked: true`) this long before they are deleted. */
const KEEP_REVOKED_MS = 7 * 24 * 3600 * 1000;

/**
 * Deletes what can no longer be used, every ten minutes: refresh tokens past their expiry
 * (used ones are kept until then, for reuse detection), the sealed successors of tokens used
 * longer ago than REFRESH_REUSE_GRACE, sessions past their absolute expiry, and sessions revoked
 * more than a week ago.
 */
@Injectable()
export class SessionsPurgeService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SessionsPurgeService.name);
  private readonly job = new PeriodicJob('purge', this.logger, () => this.purge());

  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @InjectRepository(RefreshToken) private readonly refreshTokens: Repository<RefreshToken>,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.env === 'test') return; // tests call purge() themselves
    this.job.start(PURGE_INTERVAL_MS);
  }

  onApplicationShutdown(): void {
    this.job.stop();
  }

  async purge(now = new Date()): Promise<{ refreshTokens: number; sessions: number }> {
    const tokens = await this.refreshTokens.delete({ expiresAt: LessThan(now) });
    // A consumed token's sealed successor is only ever opened within the reuse grace: drop it after.
    const graceStart = new Date(now.getTime() - this.config.auth.refreshReuseGrace * 1000);
    await this.refreshTokens.update({ usedAt: LessThan(graceStart), successor: Not(IsNull()) }, { successor: null });
    const expired = await this.sessions.delete({ expiresAt: LessThan(now) });
    const revoked = await this.sessions.delete({ revokedAt: LessThan(new Date(now.getTime() - KEEP_REVOKED_MS)) });
    const result = { refreshTokens: tokens.affected ?? 0, sessions: (expired.affected ?? 0) + (revoked.affected ?? 0) };
    if (result.refreshTokens || result.sessions) {
      this.logger.log(`purged ${result.refreshTokens} refresh tokens and ${result.sessions} sessions`);
    }
    return result;
  }
}
