import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { AuditService } from '../audit/audit.service';
import { randomUUID } from 'node:crypto';
import { IsNull, QueryFailedError, Repository } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';
import { AppError, unauthorized } from '../common/errors/app-error';
import type { UserPrincipal } from '../common/auth/principal';
import { generateToken, hashSecret, isWellFormedToken, TOKEN_PREFIXES } from '../common/auth/token-format';
import { UsersService } from '../users/users.service';
import { credentialStatus } from '../common/auth/credential-status';
import { LookupCache } from '../common/cache/lookup-cache';
import { ApiKey } from './api-key.entity';
import { effectiveKeyScopes, INHERIT, requestableScopes } from './api-key-scopes';
import { ApiKeyUsageRecorder, KeyUse } from './api-key-usage.recorder';

export interface CreateApiKeyInput {
  scopes: string[] | null;
  expiresIn: number | null;
  note?: string | null;
  accessTags?: string[] | null;
}

/** What verification needs of a key, cached by secret hash. */
interface CachedKey {
  readonly id: string;
  readonly userId: string;
  readonly scopes: readonly string[];
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
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);
  /** secret hash → key facts, or "no such key". */
  private readonly cache: LookupCache<CachedKey>;

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    private readonly users: UsersService,
    private readonly usage: ApiKeyUsageRecorder,
    private readonly audit: AuditService,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.cache = new LookupCache(config.auth.credentialCacheTtl * 1000, MAX_CACHED_KEYS, MAX_CACHED_MISSES);
  }

  /** Creates a key for the caller. The secret is returned here and never again. */
  async create(caller: UserPrincipal, input: CreateApiKeyInput): Promise<{ key: ApiKey; secret: string }> {
    const scopes = input.scopes ?? [INHERIT];
    const state = await this.users.state(caller.userId);
    const allowed = requestableScopes(caller.scopes, state.roles);
    const extra = scopes.filter((s) => !allowed.includes(s));
    if (extra.length > 0) {
      throw new AppError(
        'INSUFFICIENT_SCOPE',
        `Requested scopes [${extra.join(', ')}] must be a subset of the principal's scopes [${allowed.join(', ')}].`,
      );
    }
    const accessTags = input.accessTags ?? null;
    if (accessTags !== null && (scopes.includes(INHERIT) || scopes.includes('admin:apikeys'))) {
      throw new AppError('INSUFFICIENT_SCOPE', 'Scopes "inherit" and "admin:apikeys" cannot be combined with access tag restrictions.');
    }
    const active = await this.keys
      .createQueryBuilder('k')
      .where('k.user_id = :userId AND k.revoked_at IS NULL', { userId: caller.userId })
      .andWhere('(k.expires_at IS NULL OR k.expires_at > :now)', { now: new Date() })
      .getCount();
    if (active >= this.config.auth.maxApiKeysPerUser) {
      throw new AppError(
        'API_KEY_LIMIT_REACHED',
        `This account has ${active} API keys, the most allowed (${this.config.auth.maxApiKeysPerUser}). Revoke one first.`,
      );
    }

    const now = new Date();
    for (let attempt = 0; ; attempt++) {
      const secret = generateToken('personalApiKey');
      const key = this.keys.create({
        id: randomUUID(),
        userId: caller.userId,
        firstEight: firstEightOf(secret),
        secretHash: hashSecret(this.config.auth.tokenPepper, secret),
        note: input.note ?? null,
        scopes: [...new Set(scopes)],
        accessTags,
        userEpoch: state.epoch,
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
        if (attempt < 2 && error instanceof QueryFailedError && /unique|duplicate/i.test(error.message)) continue;
        throw error;
      }
      this.logger.log(`API key created: ${key.id} (${key.firstEight}) user=${caller.userId} scopes=${key.scopes.join(',')}`);
      await this.audit.record('api_key.created', {
        subject: { type: 'api_key', id: key.id, label: key.firstEight },
        userId: caller.userId,
        details: { scopes: [...key.scopes], expires_at: key.expiresAt?.toISOString() ?? null, note: key.note ?? null },
      });
      return { key, secret };
    }
  }

  /** Resolves a presented key to its owner's principal, or throws 401. */
  async authenticate(secret: string, ip: string | null): Promise<UserPrincipal> {
    if (!isWellFormedToken(secret, 'personalApiKey')) throw unauthorized('AUTH_INVALID_TOKEN', INVALID_KEY);
    const key = await this.lookup(hashSecret(this.config.auth.tokenPepper, secret));
    if (!key || key.revoked || (key.expiresAt !== null && key.expiresAt <= Date.now())) {
      throw unauthorized('AUTH_INVALID_TOKEN', INVALID_KEY);
    }
    const pending = this.users.state(key.userId);
    const owner = pending instanceof Promise ? await pending : pending;
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
      credential: { type: 'api_key', id: key.id },
    };
  }

  get(userId: string, keyId: string): Promise<ApiKey | null> {
    return this.keys.findOne({ where: { id: keyId, userId } });
  }

  /** Every key of the user, newest first, whatever its status. */
  listForUser(userId: string): Promise<ApiKey[]> {
    return this.keys.find({ where: { userId }, order: { createdAt: 'DESC' } });
  }

  /** Keys that still work (not revoked, not expired). */
  async listActiveForUser(userId: string): Promise<ApiKey[]> {
    const now = new Date();
    return (await this.keys.find({ where: { userId, revokedAt: IsNull() }, order: { createdAt: 'ASC' } })).filter(
      (k) => credentialStatus(k, now) === 'active',
    );
  }

  /** Revokes the caller's key named by its first eight characters. */
  async revokeByFirstEight(userId: string, firstEight: string): Promise<void> {
    const key = await this.keys.findOne({ where: { userId, firstEight: firstEight.slice(0, 8), revokedAt: IsNull() } });
    if (!key) throw new AppError('API_KEY_NOT_FOUND', 'The currently-authenticated user has no such API key.');
    await this.revoke(key.id);
  }

  async revokeById(userId: string, keyId: string): Promise<void> {
    const key = await this.keys.findOne({ where: { userId, id: keyId } });
    if (!key) throw new AppError('API_KEY_NOT_FOUND', 'No such API key.');
    if (!key.revokedAt) await this.revoke(key.id);
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
    await this.keys.update({ userId, revokedAt: IsNull() }, { revokedAt: new Date() });
    for (const key of revoked) this.cache.forget(key.secretHash);
    return revoked.length;
  }

  /** The latest use of a key: this instance's unwritten one, else what the database has. */
  lastUse(key: ApiKey): KeyUse | null {
    return this.usage.latest(key.id) ?? (key.lastUsedAt ? { at: key.lastUsedAt, ip: key.lastUsedIp } : null);
  }

  private async revoke(keyId: string): Promise<void> {
    const key = await this.keys.findOne({ where: { id: keyId }, select: { id: true, secretHash: true, userId: true, firstEight: true } });
    const result = await this.keys.update({ id: keyId, revokedAt: IsNull() }, { revokedAt: new Date() });
    if (key) this.cache.forget(key.secretHash); // at once on this instance
    this.logger.log(`API key revoked: ${keyId}`);
    if (key && result.affected) {
      await this.audit.record('api_key.revoked', { subject: { type: 'api_key', id: key.id, label: key.firstEight }, userId: key.userId });
    }
  }

  private lookup(hash: string): Promise<CachedKey | null> {
    return this.cache.get(hash, async () => {
      const row = await this.keys.findOne({
        where: { secretHash: hash },
        select: { id: true, userId: true, scopes: true, expiresAt: true, userEpoch: true, revokedAt: true },
      });
      return row
        ? {
            id: row.id,
            userId: row.userId,
            scopes: Object.freeze([...row.scopes]),
            expiresAt: row.expiresAt?.getTime() ?? null,
            userEpoch: row.userEpoch,
            revoked: row.revokedAt !== null,
          }
        : null;
    });
  }
}

/** The eight characters after the prefix: shown to the owner to tell keys apart. */
export function firstEightOf(secret: string): string {
  return secret.slice(TOKEN_PREFIXES.personalApiKey.length, TOKEN_PREFIXES.personalApiKey.length + 8);
}
