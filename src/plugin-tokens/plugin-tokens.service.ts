import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { AuditDetails } from '../audit/audit-event.entity';
import { AuditService, type AuditActor } from '../audit/audit.service';
import { parseUuid } from '../common/uuid';
import { randomUUID } from 'node:crypto';
import { In, IsNull, MoreThan, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { RevocationFeed } from '../revocation-feed/revocation-feed.service';
import { credentialStatus, credentialStatusCondition, expiringWithin, type CredentialStatus } from '../common/auth/credential-status';
import { LookupCache } from '../common/cache/lookup-cache';
import { RedisService } from '../common/redis/redis.service';
import { pluginTokenLabel, type PluginTokenPrincipal, type UserPrincipal } from '../common/auth/principal';
import { KeyedHashes } from '../common/auth/presented-secrets';
import { generateToken, hashSecret, isWellFormedToken } from '../common/auth/token-format';
import { AppError, unauthorized } from '../common/errors/app-error';
import type { LastUse } from '../common/usage/last-use-recorder';
import { AppConfig, InjectConfig } from '../config/app.config';
import { Plugin } from '../plugins/plugin.entity';
import { PluginsService, UPLOAD_SCOPE } from '../plugins/plugins.service';
import { RawSql, readJson, readTimestamp } from '../database/raw-sql';
import { andThen, type MaybePromise } from '../common/maybe-async';
import { PluginToken } from './plugin-token.entity';
import { PluginTokenUsageRecorder } from './plugin-token-usage.recorder';

/** A `plugin_tokens` row as the lookup reads it (plain SQL, column names as stored). */
interface TokenRow {
  id: string;
  plugin_id: string;
  description: string;
  scopes: unknown;
  expires_at: unknown;
  revoked_at: unknown;
  previous_valid_until: unknown;
  secret_hash: string;
  trusted_publisher_id: string | null;
}

/** What verification needs of a token, cached by secret hash. */
interface CachedToken {
  readonly id: string;
  readonly pluginId: string;
  readonly description: string;
  /** How its actions are attributed (PluginTokenPrincipal.label). */
  readonly label: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number | null;
  readonly revoked: boolean;
  /** Set when the hash is the token's *previous* secret (after a rotation). */
  readonly previousValidUntil: number | null;
}

/** Filters and paging of the administrators' deploy-token list (`unusedSince`: stale tokens only). */
export interface PluginTokenListQuery {
  pluginId?: string;
  status?: CredentialStatus;
  /** Live tokens not used since then (never-used ones counted from their creation). */
  unusedSince?: Date;
  offset: number;
  limit: number;
}

/** How many deploy tokens of a plugin are in each state. */
export interface PluginTokenCounts {
  active: number;
  expired: number;
  revoked: number;
}

const INVALID = 'Invalid deploy token';
const MAX_CACHED = 50_000;

/**
 * Deploy tokens: one plugin each, managed by every maintainer of that plugin, independent of the
 * maintainer who made them. Rotation gives a token a new secret and keeps the old one working
 * for an overlap window, so a CI secret can be swapped without a failed release.
 */
@Injectable()
export class PluginTokensService {
  private readonly logger = new Logger(PluginTokensService.name);
  /** secret hash (current or previous secret) → token facts, or "no such token". */
  private readonly cache: LookupCache<CachedToken>;
  /** Presented tokens → their keyed hash (well-formed ones only). */
  private readonly presented: KeyedHashes;
  private sql?: RawSql;

  constructor(
    @InjectRepository(PluginToken) private readonly tokens: Repository<PluginToken>,
    private readonly plugins: PluginsService,
    private readonly usage: PluginTokenUsageRecorder,
    private readonly clock: Clock,
    private readonly feed: RevocationFeed,
    private readonly audit: AuditService,
    @InjectConfig() private readonly config: AppConfig,
    redis: RedisService,
  ) {
    this.cache = new LookupCache({
      name: 'deploy-token-lookup',
      ttlMs: config.auth.credentialCacheTtl * 1000,
      maxHits: MAX_CACHED,
      maxMisses: MAX_CACHED / 5,
      redis,
    });
    this.presented = new KeyedHashes(config.auth.tokenPepper, (secret) => isWellFormedToken(secret, 'deployToken'));
  }

  async create(plugin: Plugin, by: UserPrincipal, description: string, expiresIn?: number | null): Promise<{ token: PluginToken; secret: string }> {
    const now = this.clock.now();
    const made = await this.insert(plugin, { description, createdById: by.userId, trustedPublisherId: null, createdAt: now, expiresAt: this.expiry(now, expiresIn) });
    this.logger.log(`deploy token created: ${made.token.id} for ${plugin.name} by user ${by.userId}`);
    await this.recordEvent('deploy_token.created', plugin, made.token, { expires_at: made.token.expiresAt?.toISOString() ?? null });
    return made;
  }

  /**
   * A token for a trusted publisher's CI job (src/trusted-publishing): `ttlSeconds` long, labelled
   * with the publisher wherever it acts, audited with the publisher as the actor and the job's facts.
   */
  async createForPublisher(
    plugin: Plugin,
    publisher: { id: string; label: string },
    ttlSeconds: number,
    job: AuditDetails,
  ): Promise<{ token: PluginToken; secret: string }> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
    const made = await this.insert(plugin, { description: publisher.label, createdById: null, trustedPublisherId: publisher.id, createdAt: now, expiresAt });
    this.logger.log(`deploy token created: ${made.token.id} for ${plugin.name} by ${publisher.label}`);
    await this.recordEvent('deploy_token.created', plugin, made.token, { expires_at: expiresAt.toISOString(), ...job }, {
      type: 'publisher',
      id: publisher.id,
      label: publisher.label,
    });
    return made;
  }

  private async insert(
    plugin: Plugin,
    fields: Pick<PluginToken, 'description' | 'createdById' | 'trustedPublisherId' | 'createdAt' | 'expiresAt'>,
  ): Promise<{ token: PluginToken; secret: string }> {
    const secret = generateToken('deployToken');
    const token = this.tokens.create({
      id: randomUUID(),
      pluginId: plugin.id,
      secretHash: this.hash(secret),
      previousSecretHash: null,
      previousValidUntil: null,
      scopes: [UPLOAD_SCOPE],
      rotatedAt: null,
      lastUsedAt: null,
      lastUsedIp: null,
      revokedAt: null,
      ...fields,
    });
    await this.tokens.insert(token);
    return { token, secret };
  }

  /** Every token of the plugin, whoever made it, newest first, with its creator loaded. */
  list(plugin: Plugin): Promise<PluginToken[]> {
    return this.tokens.find({ where: { pluginId: plugin.id }, relations: { createdBy: true }, order: { createdAt: 'DESC' } });
  }

  /** Every token of every plugin `userId` maintains. */
  async listForMaintainer(userId: string): Promise<{ plugin: Plugin; token: PluginToken }[]> {
    const plugins = await this.plugins.maintainedBy(userId);
    if (plugins.length === 0) return [];
    const byId = new Map(plugins.map((p) => [p.id, p]));
    const rows = await this.tokens.find({
      where: { pluginId: In([...byId.keys()]) },
      relations: { createdBy: true },
      order: { createdAt: 'DESC' },
    });
    return rows.map((token) => ({ plugin: byId.get(token.pluginId)!, token }));
  }

  /**
   * Live tokens that expire within `days`, soonest first, with their plugin: every plugin's
   * (operators), or those of the plugins `maintainerId` maintains (their whoami).
   */
  async listExpiring(days: number, maintainerId?: string): Promise<PluginToken[]> {
    const pluginIds = maintainerId === undefined ? undefined : (await this.plugins.maintainedBy(maintainerId)).map((p) => p.id);
    if (pluginIds?.length === 0) return [];
    return this.tokens.find({
      // A trusted publisher's tokens live minutes by design: nothing to warn about.
      where: { ...expiringWithin(this.clock.now(), days), trustedPublisherId: IsNull(), ...(pluginIds ? { pluginId: In(pluginIds) } : {}) },
      relations: { plugin: true },
      order: { expiresAt: 'ASC' },
    });
  }

  async get(plugin: Plugin, id: string): Promise<PluginToken> {
    const uuid = parseUuid(id);
    const token = uuid ? await this.tokens.findOne({ where: { id: uuid, pluginId: plugin.id }, relations: { createdBy: true } }) : null;
    if (!token) throw new AppError('PLUGIN_TOKEN_NOT_FOUND', `${plugin.name} has no deploy token ${id.slice(0, 64)}.`);
    return token;
  }

  async describe(plugin: Plugin, id: string, description: string, by: UserPrincipal): Promise<PluginToken> {
    const token = await this.get(plugin, id);
    refuseIfFromPublisher(token, 'renamed');
    await this.tokens.update({ id: token.id }, { description });
    await this.forget(token.id);
    this.logger.log(`deploy token ${token.id} of ${plugin.name} renamed by user ${by.userId}`);
    await this.recordEvent('deploy_token.renamed', plugin, { id: token.id, description }, { previous: token.description });
    return { ...token, description } as PluginToken;
  }

  async revoke(plugin: Plugin, id: string, by: UserPrincipal): Promise<void> {
    const token = await this.get(plugin, id);
    if (!token.revokedAt) {
      const result = await this.tokens.update({ id: token.id, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
      if (result.affected) await this.revoked(plugin, token);
    }
    await this.forget(token.id);
    this.logger.log(`deploy token revoked: ${token.id} of ${plugin.name} by user ${by.userId}`);
  }

  /**
   * Revocation by the token itself: its holder, a CI pipeline (RFC 7009), or a leak report
   * (src/leaked-tokens), also by the previous secret of a rotation (whoever holds one may hold the
   * other). The stored token, whatever its status, revoked now if not already; null for a value
   * that is no token of ours (a look-alike costs no query).
   */
  async revokeBySecret(secret: string, by = 'its holder'): Promise<{ token: PluginToken; wasLive: boolean } | null> {
    const hash = this.presented.of(secret);
    if (hash === null) return null;
    const current = await this.tokens.findOne({ where: { secretHash: hash }, relations: { plugin: true } });
    const token = current ?? (await this.tokens.findOne({ where: { previousSecretHash: hash }, relations: { plugin: true } }));
    if (!token) return null;
    const now = this.clock.now();
    const wasLive = credentialStatus(token, now) === 'active' && (current !== null || (token.previousValidUntil !== null && token.previousValidUntil > now));
    await this.revokeAnyById(token.id, by); // idempotent: audits and notifies once
    return { token, wasLive };
  }

  /** Revokes the live tokens a trusted publisher's jobs got (the publisher is being removed); how many. */
  async revokeLiveOfPublisher(publisherId: string, by: string): Promise<number> {
    const live = await this.tokens.find({ where: { trustedPublisherId: publisherId, revokedAt: IsNull(), expiresAt: MoreThan(this.clock.now()) }, select: { id: true } });
    for (const { id } of live) await this.revokeAnyById(id, by);
    return live.length;
  }

  /** After a token was revoked: the audit log, and services that cache introspection answers (the feed). */
  private async revoked(plugin: Plugin, token: PluginToken): Promise<void> {
    await this.recordEvent('deploy_token.revoked', plugin, token);
    await this.feed.record({ kind: 'deploy_token', tokenId: token.id, pluginId: plugin.id });
  }

  /** A token's times and plugin (RFC 7662 `iat`, `exp`, `plugin`), after `authenticate` accepted it. */
  async introspectionFacts(id: string): Promise<{ createdAt: Date; expiresAt: Date | null; plugin: { id: string; name: string } } | null> {
    const token = await this.tokens.findOne({ where: { id }, relations: { plugin: true } });
    return token?.plugin ? { createdAt: token.createdAt, expiresAt: token.expiresAt, plugin: { id: token.plugin.id, name: token.plugin.name } } : null;
  }

  /** Any plugin's token by id (administrators; the caller validates the UUID); 404 when unknown, idempotent. */
  async revokeAnyById(id: string, by = 'an administrator'): Promise<PluginToken> {
    const token = await this.tokens.findOne({ where: { id }, relations: { plugin: true } });
    if (!token) throw new AppError('PLUGIN_TOKEN_NOT_FOUND', 'No such deploy token.');
    if (!token.revokedAt) {
      const result = await this.tokens.update({ id: token.id, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
      if (result.affected) await this.revoked(token.plugin!, token);
    }
    await this.forget(token.id);
    this.logger.log(`deploy token revoked: ${token.id} of ${token.plugin!.name} by ${by}`);
    return token;
  }

  /**
   * One page of every plugin's tokens (administrators), newest first, with plugin and creator
   * loaded. With `unusedSince`: the live tokens whose last use (or, never used, creation) is
   * older, by the database, least recently used first; a token whose newer use this instance
   * has not written yet is left out of the page.
   */
  async listPage(query: PluginTokenListQuery): Promise<{ tokens: PluginToken[]; total: number }> {
    const now = this.clock.now();
    const qb = this.tokens.createQueryBuilder('t').leftJoinAndSelect('t.plugin', 'p').leftJoinAndSelect('t.createdBy', 'c');
    if (query.pluginId) qb.andWhere('t.plugin_id = :pluginId', { pluginId: query.pluginId });
    const since = query.unusedSince;
    if (since) {
      qb.andWhere(...credentialStatusCondition('t', 'active', now))
        .andWhere('COALESCE(t.last_used_at, t.created_at) < :since', { since })
        .orderBy('COALESCE(t.last_used_at, t.created_at)', 'ASC');
    } else {
      if (query.status) qb.andWhere(...credentialStatusCondition('t', query.status, now));
      qb.orderBy('t.created_at', 'DESC');
    }
    // limit/offset, not take/skip: the joins are many-to-one, and take/skip would rewrite the ORDER BY.
    const [rows, total] = await qb.addOrderBy('t.id', 'ASC').offset(query.offset).limit(query.limit).getManyAndCount();
    if (!since) return { tokens: rows, total };
    const tokens = rows.filter((t) => !((this.usage.latest(t.id)?.at ?? 0) >= since));
    return { tokens, total: total - (rows.length - tokens.length) };
  }

  /** Token counts by state for every plugin that has tokens (plugin id → counts). */
  async countsByPlugin(): Promise<Map<string, PluginTokenCounts>> {
    const rows = await this.tokens
      .createQueryBuilder('t')
      .select('t.plugin_id', 'pluginId')
      .addSelect('COUNT(*)', 'total')
      .addSelect('SUM(CASE WHEN t.revoked_at IS NOT NULL THEN 1 ELSE 0 END)', 'revoked')
      .addSelect('SUM(CASE WHEN t.revoked_at IS NULL AND t.expires_at IS NOT NULL AND t.expires_at <= :now THEN 1 ELSE 0 END)', 'expired')
      .setParameter('now', this.clock.now())
      .groupBy('t.plugin_id')
      .getRawMany<{ pluginId: string; total: string | number; revoked: string | number; expired: string | number }>();
    return new Map(
      rows.map((r) => {
        const [total, revoked, expired] = [r.total, r.revoked, r.expired].map(Number);
        return [r.pluginId, { active: total - revoked - expired, expired, revoked }];
      }),
    );
  }

  /**
   * Gives the token a new secret. The old one keeps working for `overlapSeconds` (0: stops now,
   * at most PLUGIN_TOKEN_MAX_OVERLAP), then is refused, and its use is logged.
   */
  async rotate(plugin: Plugin, id: string, overlapSeconds: number, by: UserPrincipal): Promise<{ token: PluginToken; secret: string }> {
    if (overlapSeconds > this.config.plugins.tokenMaxOverlap) {
      throw new AppError('VALIDATION_FAILED', `overlap_seconds may be at most ${this.config.plugins.tokenMaxOverlap} (PLUGIN_TOKEN_MAX_OVERLAP).`);
    }
    const token = await this.get(plugin, id);
    refuseIfFromPublisher(token, 'rotated');
    const now = this.clock.now();
    if (token.revokedAt || (token.expiresAt && token.expiresAt <= now)) {
      throw new AppError('CONFLICT', 'A revoked or expired deploy token cannot be rotated; create a new one.');
    }
    const current = await this.tokens.findOne({
      where: { id: token.id },
      select: { id: true, secretHash: true, previousSecretHash: true },
    });
    const secret = generateToken('deployToken');
    const changes = {
      secretHash: this.hash(secret),
      previousSecretHash: current!.secretHash,
      previousValidUntil: new Date(now.getTime() + overlapSeconds * 1000),
      rotatedAt: now,
    };
    // Conditional on the secret we read: of two concurrent rotations, one wins, the other is a 409.
    const result = await this.tokens.update({ id: token.id, secretHash: current!.secretHash }, changes);
    if (result.affected !== 1) throw new AppError('CONFLICT', 'This deploy token was rotated at the same moment; list the tokens and try again.');
    // The secret retired by an earlier rotation is forgotten now, on this instance at once.
    await this.forget(token.id, current!.secretHash, ...(current!.previousSecretHash ? [current!.previousSecretHash] : []));
    this.logger.log(`deploy token rotated: ${token.id} of ${plugin.name} by user ${by.userId}, old secret valid ${overlapSeconds}s`);
    await this.recordEvent('deploy_token.rotated', plugin, token, { overlap_seconds: overlapSeconds });
    return { token: { ...token, ...changes } as PluginToken, secret };
  }

  private recordEvent(
    type: 'deploy_token.created' | 'deploy_token.renamed' | 'deploy_token.rotated' | 'deploy_token.revoked',
    plugin: Plugin,
    token: { id: string; description: string },
    details: AuditDetails = {},
    actor?: AuditActor,
  ): Promise<void> {
    return this.audit.record(type, {
      subject: { type: 'deploy_token', id: token.id, label: token.description },
      pluginId: plugin.id,
      details: { plugin: plugin.name, ...details },
      actor,
    });
  }

  /**
   * Resolves a presented deploy token to its principal, or throws 401. Synchronous when the
   * token is cached (the usual case); a promise otherwise.
   */
  authenticate(secret: string, ip: string | null): MaybePromise<PluginTokenPrincipal> {
    const hash = this.presented.of(secret);
    if (hash === null) throw unauthorized('AUTH_INVALID_TOKEN', INVALID);
    return andThen(this.lookup(hash), (token) => this.principalOf(token, ip));
  }

  private principalOf(token: CachedToken | null, ip: string | null): PluginTokenPrincipal {
    const now = this.clock.now().getTime();
    if (!token || token.revoked || (token.expiresAt !== null && token.expiresAt <= now)) {
      throw unauthorized('AUTH_INVALID_TOKEN', INVALID);
    }
    if (token.previousValidUntil !== null && token.previousValidUntil <= now) {
      this.logger.warn(`rotated-out secret of deploy token ${token.id} used after its overlap ended (ip ${ip ?? '-'}); refused`);
      throw unauthorized('AUTH_INVALID_TOKEN', INVALID);
    }
    this.usage.record(token.id, ip);
    return { kind: 'plugin_token', tokenId: token.id, pluginId: token.pluginId, description: token.description, label: token.label, scopes: token.scopes };
  }

  lastUse(token: PluginToken): LastUse | null {
    return this.usage.latest(token.id) ?? (token.lastUsedAt ? { at: token.lastUsedAt, ip: token.lastUsedIp } : null);
  }

  private lookup(hash: string): MaybePromise<CachedToken | null> {
    return this.cache.get(hash, async () => {
      const sql = (this.sql ??= new RawSql(this.tokens));
      const [row] = await sql.query<TokenRow>(
        `SELECT id, plugin_id, description, scopes, expires_at, revoked_at, previous_valid_until, secret_hash, trusted_publisher_id FROM ${sql.table}` +
          ` WHERE secret_hash = ${sql.param(1)} OR previous_secret_hash = ${sql.param(1)}`,
        [hash],
      );
      if (!row) return null;
      const isPrevious = row.secret_hash !== hash;
      return {
        id: row.id,
        pluginId: row.plugin_id,
        description: row.description,
        label: pluginTokenLabel(row.description, row.trusted_publisher_id !== null),
        scopes: Object.freeze(readJson<string[]>(row.scopes)),
        expiresAt: readTimestamp(row.expires_at),
        revoked: row.revoked_at !== null,
        previousValidUntil: isPrevious ? (readTimestamp(row.previous_valid_until) ?? 0) : null,
      };
    });
  }

  /** Drops the cached lookups of a token (after any change to it): here, and with Redis on every instance. */
  private async forget(id: string, ...extraHashes: string[]): Promise<void> {
    const row = await this.tokens.findOne({ where: { id }, select: { id: true, secretHash: true, previousSecretHash: true } });
    const hashes = [row?.secretHash, row?.previousSecretHash, ...extraHashes].filter((h): h is string => !!h);
    await this.cache.forget(...new Set(hashes));
  }

  private hash(secret: string): string {
    return hashSecret(this.config.auth.tokenPepper, secret);
  }

  private expiry(now: Date, expiresIn: number | null | undefined): Date | null {
    const max = this.config.plugins.tokenMaxLifetime;
    if (expiresIn != null && max !== undefined && expiresIn > max) {
      throw new AppError('VALIDATION_FAILED', `expires_in may be at most ${max} seconds (PLUGIN_TOKEN_MAX_LIFETIME).`);
    }
    const seconds = expiresIn ?? max;
    return seconds != null ? new Date(now.getTime() + seconds * 1000) : null;
  }
}

/** A trusted publisher's token keeps the publisher's name and its few minutes: revoke it, or remove the publisher. */
function refuseIfFromPublisher(token: PluginToken, what: 'renamed' | 'rotated'): void {
  if (token.trustedPublisherId) throw new AppError('CONFLICT', `A trusted publisher's deploy token is not ${what}; it expires by itself in minutes (revoke it, or remove the publisher).`);
}
