import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';
import { ApiKey } from './api-key.entity';

export interface KeyUse {
  at: Date;
  ip: string | null;
}

/**
 * Records when and from where each API key was last used, written behind: the first use of a
 * key is written at once, later uses at most once per API_KEY_LAST_USED_INTERVAL seconds (the
 * newest one wins), never one write per request. `latest()` exposes the not-yet-written use so
 * this instance reports it immediately (whoami, key listings).
 */
@Injectable()
export class ApiKeyUsageRecorder implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ApiKeyUsageRecorder.name);
  private readonly pending = new Map<string, KeyUse>();
  private readonly lastWritten = new Map<string, number>();
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    @InjectConfig() config: AppConfig,
  ) {
    this.intervalMs = config.auth.apiKeyLastUsedInterval * 1000;
  }

  record(keyId: string, ip: string | null): void {
    const now = Date.now();
    this.pending.set(keyId, { at: new Date(now), ip: ip?.slice(0, 64) ?? null });
    if (now - (this.lastWritten.get(keyId) ?? 0) >= this.intervalMs) {
      void this.write(keyId, now);
    } else {
      this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
    }
  }

  /** The newest use of this key seen by this instance that is not in the database yet. */
  latest(keyId: string): KeyUse | undefined {
    return this.pending.get(keyId);
  }

  /** Writes every pending use now. */
  async flush(): Promise<void> {
    this.timer = undefined;
    const now = Date.now();
    await Promise.all([...this.pending.keys()].map((keyId) => this.write(keyId, now)));
    for (const [keyId, at] of this.lastWritten) if (now - at > this.intervalMs) this.lastWritten.delete(keyId);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }

  private async write(keyId: string, now: number): Promise<void> {
    const use = this.pending.get(keyId);
    if (!use) return;
    this.lastWritten.set(keyId, now);
    try {
      await this.keys.update({ id: keyId }, { lastUsedAt: use.at, lastUsedIp: use.ip });
      if (this.pending.get(keyId) === use) this.pending.delete(keyId);
    } catch (error) {
      // Keep it pending: the next flush retries (e.g. after a database outage).
      this.logger.warn(`could not record use of API key ${keyId}: ${(error as Error).message}`);
      this.timer ??= setTimeout(() => void this.flush(), Math.max(this.intervalMs, 5000)).unref();
    }
  }
}
