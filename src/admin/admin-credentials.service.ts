import { Injectable } from '@nestjs/common';
import type { ApiKey } from '../api-keys/api-key.entity';
import { ApiKeysService } from '../api-keys/api-keys.service';
import type { CredentialStatus } from '../common/auth/credential-status';
import { Clock } from '../common/clock';
import { toPluginTokenResponse } from '../plugin-tokens/dto/plugin-token.dto';
import type { PluginToken } from '../plugin-tokens/plugin-token.entity';
import { PluginTokensService } from '../plugin-tokens/plugin-tokens.service';
import { toPluginResponse } from '../plugins/dto/plugin-response.dto';
import { PluginsService } from '../plugins/plugins.service';
import { SessionsService } from '../sessions/sessions.service';
import { UsersService } from '../users/users.service';
import {
  type AdminApiKeyPage,
  type AdminDeployTokenPage,
  type AdminDeployTokenResponse,
  type AdminSessionPage,
  type StaleCredentialsResponse,
  toAdminApiKeyResponse,
  toAdminSessionResponse,
} from './dto/admin-credentials.dto';
import type { AdminPluginPage } from './dto/admin-plugin.dto';

interface Page {
  offset: number;
  limit: number;
}

/**
 * Every session, API key and deploy token, whoever holds it: listings for administrators and
 * revocation through the owning services (which drop their caches and record the audit events).
 */
@Injectable()
export class AdminCredentialsService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly apiKeys: ApiKeysService,
    private readonly plugins: PluginsService,
    private readonly tokens: PluginTokensService,
    private readonly clock: Clock,
  ) {}

  async listSessions(query: Page & { userId?: string; status?: CredentialStatus }): Promise<AdminSessionPage> {
    const now = this.clock.now();
    const { sessions, total } = await this.sessions.listPage(query, now);
    const names = await this.usernames(sessions.map((s) => s.userId));
    return { items: sessions.map((s) => toAdminSessionResponse(s, names.get(s.userId) ?? null, now)), total, offset: query.offset, limit: query.limit };
  }

  async revokeSession(id: string): Promise<void> {
    await this.sessions.revokeAnyById(id);
  }

  async listApiKeys(query: Page & { userId?: string; status?: CredentialStatus; unusedSince?: Date }): Promise<AdminApiKeyPage> {
    const { keys, total } = await this.apiKeys.listPage(query, this.clock.now());
    return { items: await this.describeKeys(keys), total, offset: query.offset, limit: query.limit };
  }

  async revokeApiKey(id: string): Promise<void> {
    await this.apiKeys.revokeAnyById(id);
  }

  /** 404 PLUGIN_NOT_FOUND for an unknown plugin name. */
  async listDeployTokens(query: Page & { plugin?: string; status?: CredentialStatus; unusedSince?: Date }): Promise<AdminDeployTokenPage> {
    const pluginId = query.plugin ? (await this.plugins.getByName(query.plugin)).id : undefined;
    const { tokens, total } = await this.tokens.listPage({ ...query, pluginId });
    return { items: tokens.map((t) => this.describeToken(t)), total, offset: query.offset, limit: query.limit };
  }

  async revokeDeployToken(id: string): Promise<void> {
    await this.tokens.revokeAnyById(id);
  }

  /** Live API keys and deploy tokens not used since `unusedSince` (never used: created before it). */
  async stale(unusedSince: Date, page: Page): Promise<StaleCredentialsResponse> {
    const [apiKeys, deployTokens] = await Promise.all([
      this.listApiKeys({ ...page, unusedSince }),
      this.listDeployTokens({ ...page, unusedSince }),
    ]);
    return { unused_since: unusedSince.toISOString(), api_keys: apiKeys, deploy_tokens: deployTokens };
  }

  /** Every plugin (by name) with its maintainers and how many deploy tokens it has in each state. */
  async listPlugins(page: Page): Promise<AdminPluginPage> {
    const [all, counts] = await Promise.all([this.plugins.list(), this.tokens.countsByPlugin()]);
    const items = all.slice(page.offset, page.offset + page.limit).map((p) => ({
      ...toPluginResponse(p),
      tokens: counts.get(p.plugin.id) ?? { active: 0, expired: 0, revoked: 0 },
    }));
    return { items, total: all.length, offset: page.offset, limit: page.limit };
  }

  private async describeKeys(keys: ApiKey[]) {
    const names = await this.usernames(keys.map((k) => k.userId));
    return keys.map((k) => toAdminApiKeyResponse(k, this.apiKeys.lastUse(k), names.get(k.userId) ?? null));
  }

  private describeToken(t: PluginToken): AdminDeployTokenResponse {
    return { ...toPluginTokenResponse(t.plugin!, t, this.tokens.lastUse(t), this.clock.now()), revoked_at: t.revokedAt?.toISOString() ?? null };
  }

  private async usernames(userIds: string[]): Promise<Map<string, string>> {
    const users = await this.users.findByIds([...new Set(userIds)]);
    return new Map(users.map((u) => [u.id, u.username]));
  }
}
