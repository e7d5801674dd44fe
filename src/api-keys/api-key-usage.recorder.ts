import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { LastUse, LastUseRecorder } from '../common/usage/last-use-recorder';
import { AppConfig, InjectConfig } from '../config/app.config';
import { ApiKey } from './api-key.entity';

export type KeyUse = LastUse;

/** Last use of each API key, written behind at most once per LAST_USED_INTERVAL seconds. */
@Injectable()
export class ApiKeyUsageRecorder extends LastUseRecorder implements BeforeApplicationShutdown {
  constructor(@InjectRepository(ApiKey) keys: Repository<ApiKey>, @InjectConfig() config: AppConfig) {
    super(ApiKeyUsageRecorder.name, config.auth.lastUsedInterval * 1000, (id, use) =>
      keys.update({ id }, { lastUsedAt: use.at, lastUsedIp: use.ip }),
    );
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
