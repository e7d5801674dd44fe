import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { LastUseRecorder } from '../common/usage/last-use-recorder';
import { AppConfig, InjectConfig } from '../config/app.config';
import { PluginToken } from './plugin-token.entity';

/** Last use of each deploy token, written behind at most once per LAST_USED_INTERVAL seconds. */
@Injectable()
export class PluginTokenUsageRecorder extends LastUseRecorder implements BeforeApplicationShutdown {
  constructor(@InjectRepository(PluginToken) tokens: Repository<PluginToken>, @InjectConfig() config: AppConfig) {
    super(PluginTokenUsageRecorder.name, config.auth.lastUsedInterval * 1000, (id, use) =>
      tokens.update({ id }, { lastUsedAt: use.at, lastUsedIp: use.ip }),
    );
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
