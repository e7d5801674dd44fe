import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { DataSource, Repository } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity';
import { AppError } from '../common/errors/app-error';
import { AppConfig, InjectConfig } from '../config/app.config';
import { PluginToken } from '../plugin-tokens/plugin-token.entity';
import type { Plugin } from '../plugins/plugin.entity';
import { CredentialUse, UsageCredentialRef } from './credential-use.entity';
import { CredentialUsageRecorder } from './credential-usage.recorder';
import { CredentialUsageResponse, toCredentialUseResponse } from './dto/credential-usage-response.dto';

/**
 * Reads the usage log, and answers "may this caller see that credential's log" with the same
 * errors as the credential's own routes. The id lookups read `api_keys` and `plugin_tokens`
 * (ids and owners only) through the DataSource: neither `ApiKeysService` nor
 * `PluginTokensService` offers a lookup by id alone yet.
 */
@Injectable()
export class CredentialUsageService {
  constructor(
    @InjectRepository(CredentialUse) private readonly uses: Repository<CredentialUse>,
    private readonly recorder: CredentialUsageRecorder,
    private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The newest uses of the credential, newest first, including this instance's unwritten ones. */
  async usage(credential: UsageCredentialRef): Promise<CredentialUsageResponse> {
    const limit = this.config.audit.usageLogSize;
    const rows = await this.uses.find({
      where: credential.type === 'api_key' ? { apiKeyId: credential.id } : { pluginTokenId: credential.id },
      order: { usedAt: 'DESC', id: 'DESC' },
      take: limit,
    });
    // Read after the query: a use written meanwhile is missed once rather than listed twice.
    const pending = this.recorder.pending(credential).reverse();
    const uses = [...pending, ...rows].sort((a, b) => b.usedAt.getTime() - a.usedAt.getTime()).slice(0, limit);
    return { uses: uses.map(toCredentialUseResponse), limit };
  }

  /** 404 unless `id` is one of the user's API keys (someone else's key looks unknown). */
  async assertOwnApiKey(userId: string, id: string): Promise<void> {
    if (!(await this.dataSource.getRepository(ApiKey).exists({ where: { id, userId } }))) throw apiKeyNotFound();
  }

  /** 404 unless `id` is a deploy token of this plugin (as the other token routes answer). */
  async assertTokenOfPlugin(plugin: Plugin, id: string): Promise<void> {
    const found = isUUID(id, 'all') && (await this.dataSource.getRepository(PluginToken).exists({ where: { id, pluginId: plugin.id } }));
    if (!found) throw new AppError('PLUGIN_TOKEN_NOT_FOUND', `${plugin.name} has no deploy token ${id.slice(0, 64)}.`);
  }

  /** 404 unless the credential exists (administrators; the caller validates the UUID). */
  async assertExists(credential: UsageCredentialRef): Promise<void> {
    if (credential.type === 'api_key') {
      if (!(await this.dataSource.getRepository(ApiKey).exists({ where: { id: credential.id } }))) throw apiKeyNotFound();
    } else if (!(await this.dataSource.getRepository(PluginToken).exists({ where: { id: credential.id } }))) {
      throw new AppError('PLUGIN_TOKEN_NOT_FOUND', 'No such deploy token.');
    }
  }
}

const apiKeyNotFound = () => new AppError('API_KEY_NOT_FOUND', 'No such API key.');
