import { isUniqueViolation } from '../common/errors/database-errors';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { AuditService } from '../audit/audit.service';
import { randomUUID } from 'node:crypto';
import { In, IsNull, Repository } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';
import { Clock } from '../common/clock';
import { RevocationFeed } from '../revocation-feed/revocation-feed.service';
import { AppError, unauthorized } from '../common/errors/app-error';
import { accessTagsOf, type UserPrincipal } from '../common/auth/principal';
import { KeyedHashes } from '../common/auth/presented-secrets';
import { generateToken, hashSecret, isWellFormedToken, TOKEN_PREFIXES } from '../common/auth/token-format';
import { UsersService } from '../users/users.service';
import { credentialStatus, credentialStatusCondition, expiringWithin, type CredentialStatus } from '../common/auth/credential-status';
import { LookupCache } from '../common/cache/lookup-cache';
import { RedisService } from '../common/redis/redis.service';
import { RawSql, readJson, readTimestamp } from '../database/raw-sql';
import { andThen, type MaybePromise } from '../common/maybe-async';
import type { UserState } from '../users/user-state.cache';
import { ApiKey } from './api-key.entity';
import { accessTagsRefusal, effectiveKeyScopes, INHERIT, mintRefusal } from './api-key-scopes';
import { ApiKeyUsageRecorder, KeyUse } from './api-key-usage.recorder';

export interface CreateApiKeyInput {
  scopes: string[] | null;
  expiresIn: number | null;
  note?: string | null;
  accessTags?: string[] | null;
}

/** Filters and paging of the administrators' key list (`unusedSince`: stale keys only). */
export interface ApiKeyListQuery {
  userId?: string;
  status?: CredentialStatus;
  /** Live keys not used since then (never-used ones counted from their creation). */
  unusedSince?: Date;
  offset: number;
  limit: number;
}

/** What verification needs of a key, cached by secret hash. */
interface CachedKey {
  readonly id: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  /** Tiled access tags the key is restricted to; null: unrestricted. */
  readonly accessTags: readonly string[] | null;
  readonly expiresAt: number | null;
  readonly userEpoch: number;
  readonly revoked: boolean;
}

const MAX_CACHED_KEYS = 100_000;
const MAX_CACHED_MISSES = 10_000;
const INVALID_KEY = 'Invalid API key';

/**
 * Personal API keys: creation (scopes checked against the caller), verification (hash lookup
 * behind a short-TTL cache, so a hot key costs no query per request), listing and revocation.
 * A key dies when it is revoked, expires, or its owner is disabled or revokes everything.
 */
@Injectable()
export class ApiKeysService implements OnModuleInit {
  private readonly logger = new Logger(ApiKeysService.name);
  /** secret hash → key facts, or "no such key". */
  private readonly cache: LookupCache<CachedKey>;
  /** Presented keys → their keyed hash (well-formed ones only). */
  private readonly presented: KeyedHashes;
  private sql?: RawSql;

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    private readonly users: UsersService,
    private readonly usage: ApiKeyUsageRecorder,
    private readonly audit: AuditService,
    @InjectConfig() private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly feed: RevocationFeed,
    redis: RedisService,
  ) {
    this.cache = new LookupCache({
      name: 'api-key-lookup',
      ttlMs: config.auth.credentialCacheTtl * 1000,
      maxHits: MAX_CACHED_KEYS,
      maxMisses: MAX_CACHED_MISSES,
      redis,
    });
    this.presented = new KeyedHashes(config.auth.tokenPepper, (secret) => isWellFormedToken(secret, 'personalApiKey'));
  }

  /** Revoke-all marks the user's live keys revoked (the epoch bump has already killed them). */
  onModuleInit(): void {
    this.users.registerRevoker({ name: 'api_keys', revokeAllOf: (userId) => this.revokeAllForUser(userId) });
  }

  /** Creates a key for the caller. The secret is returned here and never again. */
  create(caller: UserPrincipal, input: CreateApiKeyInput): Promise<{ key: ApiKey; secret: string }> {
    return this.createFor(caller, caller.userId, input);
  }

  /**
   * Creates a key for a user or service principal (the caller itself, or, for administrators,
   * Tiled's `POST /auth/principal/{uuid}/apikey`). Bounded by both sides: the scopes must be
   * among the target's role scopes AND carried by the calling credential, and `inherit` needs a
   * credential holding every scope of the target (so a key never mints a broader key); access
   * tags never go with `inherit`/`admin:apikeys`, and a tag-restricted caller mints only keys
   * within its tags (`accessTagsRefusal`); 403 otherwise. The secret is returned here and never again.
   */
  async createFor(caller: UserPrincipal, userId: string, input: CreateApiKeyInput): Promise<{ key: ApiKey; secret: string }> {
    const state = await this.users.state(userId);
    if (!state.exists) throw new AppError('USER_NOT_FOUND', 'No such user.');
    const scopes = input.scopes ?? [INHERIT];
    const refusal = mintRefusal(scopes, caller.scopes, state.roles) ?? accessTagsRefusal(scopes, input.accessTags ?? null, accessTagsOf(caller));
    if (refusal) throw new AppError('INSUFFICIENT_SCOPE', refusal);
    return this.insert(userId, state.epoch, scopes, input);
  }

  private async insert(userId: string, epoch: number, scopes: string[], input: CreateApiKeyInput): Promise<{ key: ApiKey; secret: string }> {
    const accessTags = input.accessTags == null ? null : [...new Set(input.accessTags)];
    const active = await this.keys
      .createQueryBuilder('k')
      .where('k.user_id = :userId AND k.revoked_at IS NULL', { userId })
      .andWhere('(k.expires_at IS NULL OR k.expires_at > :now)', { now: this.clock.now() })
      .getCount();
    if (active >= this.config.auth.maxApiKeysPerUser) {
      throw new AppError(
        'API_KEY_LIMIT_REACHED',
        `This account has ${active} API keys, the most allowed (${this.config.auth.maxApiKeysPerUser}). Revoke one first.`,
      );
    }

    const now = this.clock.now();
    for (let attempt = 0; ; attempt++) {
      const secret = generateToken('personalApiKey');
      const key = this.keys.create({
        id: randomUUID(),
        userId,
        firstEight: firstEightOf(secret),
        secretHash: hashSecret(this.config.auth.tokenPepper, secret),
        note: input.note ?? null,
        scopes: [...new Set(scopes)],
        accessTags,
        userEpoch: epoch,
        createdAt: now,
        expiresAt: input.expiresIn != null ? new Date(now.getTime() + input.expiresIn * 1000) : null,
        lastUsedAt: null,
        lastUsedIp: null,
        revokedAt: null,
      });
      try {
        await this.keys.insert(key);
      } catch (error) {
        // first_eight is unique per user; a collision (1 in 62^8) just draws again.
        if (attempt < 2 && isUniqueViolation(error)) continue;
        throw error;
      }
      this.logger.log(`API key created: ${key.id} (${key.firstEight}) user=${userId} scopes=${key.scopes.join(',')}`);
      await this.audit.record('api_key.created', {
        subject: { type: 'api_key', id: key.id, label: key.firstEight },
        userId,
        details: { scopes: [...key.scopes], expires_at: key.expiresAt?.toISOString() ?? null, note: key.note ?? null },
      });
      return { key, secret };
    }
  }

  /**
   * Resolves a presented key to its owner's principal, or throws 401. Synchronous when the key
   * and its owner are cached (the usual case); a promise otherwise.
   */
  authenticate(secret: string, ip: string | null): MaybePromise<UserPrincipal> {
    const hash = this.presented.of(secret);
    if (hash === null) throw unauthorized('AUTH_INVALID_TOKEN', INVALID_KEY);
    return andThen(this.lookup(hash), (key) => {
      if (!key || key.revoked || (key.expiresAt !== null && key.expiresAt <= this.clock.nowMs())) {
        throw unauthorized('AUTH_INVALID_TOKEN', INVALID_KEY);
      }
      return andThen(this.users.state(key.userId), (owner) => this.ownedBy(key, owner, ip));
    });
  }

  private ownedBy(key: CachedKey, owner: UserState, ip: string | null): UserPrincipal {
    if (!owner.exists || owner.epoch !== key.userEpoch) throw unauthorized('AUTH_INVALID_TOKEN', INVALID_KEY);
    if (owner.status !== 'active') throw unauthorized('AUTH_USER_INACTIVE', 'This account is disabled.');
    this.usage.record(key.id, ip);
    return {
      kind: 'user',
      userId: key.userId,
      username: owner.username,
      roles: owner.roles,
      groups: owner.groups,
      scopes: effectiveKeyScopes(key.scopes, owner.roles),
      credential: { type: 'api_key', id: key.id, accessTags: key.accessTags },
    };
  }

  get(userId: string, keyId: string): Promise<ApiKey | null> {
    return this.keys.findOne({ where: { id: keyId, userId } });
  }

  /** Every key of the user, newest first, whatever its status. */
  listForUser(userId: string): Promise<ApiKey[]> {
    return this.keys.find({ where: { userId }, order: { createdAt: 'DESC' } });
  }

  /** Every user's live keys that expire within `days`, soonest first, with their user (operators). */
  listExpiring(days: number): Promise<ApiKey[]> {
    return this.keys.find({
      where: expiringWithin(this.clock.now(), days),
      relations: { user: true },
      order: { expiresAt: 'ASC' },
    });
  }

  /** Keys that still work (not revoked, not expired). */
  async listActiveForUser(userId: string): Promise<ApiKey[]> {
    const now = this.clock.now();
    return (await this.keys.find({ where: { userId, revokedAt: IsNull() }, order: { createdAt: 'ASC' } })).filter(
      (k) => credentialStatus(k, now) === 'active',
    );
  }

  /** The live keys of several users, oldest first. */
  async listActiveForUsers(userIds: string[]): Promise<ApiKey[]> {
    if (userIds.length === 0) return [];
    const now = this.clock.now();
    return (await this.keys.find({ where: { userId: In(userIds), revokedAt: IsNull() }, order: { createdAt: 'ASC' } })).filter(
      (k) => credentialStatus(k, now) === 'active',
    );
  }

  /**
   * One page of everyone's keys (administrators), newest first. With `unusedSince`: the live
   * keys whose last use (or, never used, creation) is older, by the database, least recently
   * used first; a key whose newer use this instance has not written yet is left out of the page.
   */
  async listPage(query: ApiKeyListQuery, now = this.clock.now()): Promise<{ keys: ApiKey[]; total: number }> {
    const qb = this.keys.createQueryBuilder('k');
    if (query.userId) qb.andWhere('k.user_id = :userId', { userId: query.userId });
    const since = query.unusedSince;
    if (since) {
      qb.andWhere(...credentialStatusCondition('k', 'active', now))
        .andWhere('COALESCE(k.last_used_at, k.created_at) < :since', { since })
        .orderBy('COALESCE(k.last_used_at, k.created_at)', 'ASC');
    } else {
      if (query.status) qb.andWhere(...credentialStatusCondition('k', query.status, now));
      qb.orderBy('k.created_at', 'DESC');
    }
    const [rows, total] = await qb.addOrderBy('k.id', 'ASC').skip(query.offset).take(query.limit).getManyAndCount();
    if (!since) return { keys: rows, total };
    const keys = rows.filter((k) => !((this.usage.latest(k.id)?.at ?? 0) >= since));
    return { keys, total: total - (rows.length - keys.length) };
  }

  /** Revokes the user's key named by its first eight characters. */
  async revokeByFirstEight(userId: string, firstEight: string, notFound = 'The currently-authenticated user has no such API key.'): Promise<void> {
    const key = await this.keys.findOne({ where: { userId, firstEight: firstEight.slice(0, 8), revokedAt: IsNull() } });
    if (!key) throw new AppError('API_KEY_NOT_FOUND', notFound);
    await this.revoke(key.id);
  }

  async revokeById(userId: string, keyId: string): Promise<void> {
    const key = await this.keys.findOne({ where: { userId, id: keyId } });
    if (!key) throw new AppError('API_KEY_NOT_FOUND', 'No such API key.');
    if (!key.revokedAt) await this.revoke(key.id);
  }

  /**
   * Revocation by the key itself: its holder (RFC 7009) or a leak report (src/leaked-tokens). The
   * stored key it is, whatever its status, revoked now if not already; null for a value that is no
   * key of ours (a look-alike costs no query).
   */
  async revokeBySecret(secret: string): Promise<{ key: ApiKey; wasLive: boolean } | null> {
    const hash = this.presented.of(secret);
    if (hash === null) return null;
    const key = await this.keys.findOne({ where: { secretHash: hash } });
    if (!key) return null;
    const wasLive = credentialStatus(key, this.clock.now()) === 'active';
    if (!key.revokedAt) await this.revoke(key.id);
    return { key, wasLive };
  }

  /** When a key was created and expires (RFC 7662 `iat`/`exp`), after `authenticate` accepted it. */
  async lifetimeOf(keyId: string): Promise<{ createdAt: Date; expiresAt: Date | null } | null> {
    return this.keys.findOne({ where: { id: keyId }, select: { id: true, createdAt: true, expiresAt: true } });
  }

  /** Any user's key by id (administrators; the caller validates the UUID); 404 when unknown, idempotent. */
  async revokeAnyById(keyId: string): Promise<ApiKey> {
    const key = await this.keys.findOne({ where: { id: keyId } });
    if (!key) throw new AppError('API_KEY_NOT_FOUND', 'No such API key.');
    if (!key.revokedAt) await this.revoke(key.id);
    return key;
  }

  /** Marks every live key of the user revoked (revoke-all); returns how many. */
  async revokeAllForUser(userId: string): Promise<number> {
    const revoked = await this.keys.find({ where: { userId, revokedAt: IsNull() }, select: { id: true, secretHash: true } });
    await this.keys.update({ userId, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
    await this.cache.forget(...revoked.map((key) => key.secretHash)); // on every instance
    return revoked.length;
  }

  /** The latest use of a key: this instance's unwritten one, else what the database has. */
  lastUse(key: ApiKey): KeyUse | null {
    return this.usage.latest(key.id) ?? (key.lastUsedAt ? { at: key.lastUsedAt, ip: key.lastUsedIp } : null);
  }

  private async revoke(keyId: string): Promise<void> {
    const key = await this.keys.findOne({ where: { id: keyId }, select: { id: true, secretHash: true, userId: true, firstEight: true } });
    const result = await this.keys.update({ id: keyId, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
    if (key) await this.cache.forget(key.secretHash); // at once here; with Redis, on every instance
    this.logger.log(`API key revoked: ${keyId}`);
    if (key && result.affected) {
      await this.audit.record('api_key.revoked', { subject: { type: 'api_key', id: key.id, label: key.firstEight }, userId: key.userId });
      await this.feed.record({ kind: 'api_key', keyId: key.id, sub: key.userId });
    }
  }

  private lookup(hash: string): MaybePromise<CachedKey | null> {
    return this.cache.get(hash, async () => {
      const sql = (this.sql ??= new RawSql(this.keys));
      const [row] = await sql.query<KeyRow>(
        `SELECT id, user_id, scopes, access_tags, expires_at, user_epoch, revoked_at FROM ${sql.table} WHERE secret_hash = ${sql.param(1)}`,
        [hash],
      );
      return row
        ? {
            id: row.id,
            userId: row.user_id,
            scopes: Object.freeze(readJson<string[]>(row.scopes)),
            accessTags: row.access_tags == null ? null : Object.freeze(readJson<string[]>(row.access_tags)),
            expiresAt: readTimestamp(row.expires_at),
            userEpoch: Number(row.user_epoch),
            revoked: row.revoked_at !== null,
          }
        : null;
    });
  }
}

interface KeyRow {
  id: string;
  user_id: string;
  scopes: unknown;
  access_tags: unknown;
  expires_at: unknown;
  user_epoch: number | string;
  revoked_at: unknown;
}

/** The eight characters after the prefix: shown to the owner to tell keys apart. */
export function firstEightOf(secret: string): string {
  return secret.slice(TOKEN_PREFIXES.personalApiKey.length, TOKEN_PREFIXES.personalApiKey.length + 8);
}
