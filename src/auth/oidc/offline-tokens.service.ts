import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, Repository } from 'typeorm';
import { SealedBox } from '../../common/crypto/sealed-box';
import { KeyedHashes } from '../../common/auth/presented-secrets';
import type { UserPrincipal } from '../../common/auth/principal';
import { CacheCounts, CacheStats } from '../../common/cache/cache-stats';
import { SharedTier } from '../../common/cache/shared-tier';
import { TtlCache } from '../../common/cache/ttl-cache';
import { RedisService } from '../../common/redis/redis.service';
import { AppError } from '../../common/errors/app-error';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { UsersService } from '../../users/users.service';
import type { UserState } from '../../users/user-state.cache';
import { andThen, type MaybePromise } from '../../common/maybe-async';
import { LoginAudit } from '../login-audit';
import { idpCredentialPrincipal, idpCredentialRefused, idpCredentialRevoked, issuedBeforeRevokeAll } from './idp-credentials';
import { IdpExchangeLimits } from './idp-exchange-limits';
import { OidcClient } from './oidc-client';
import { OidcProviders } from './oidc-providers';
import { RawSql } from '../../database/raw-sql';
import { PeriodicJob } from '../../common/periodic-job';
import { OfflineTokenFloor, OfflineTokenGrant, OfflineTokenLease, OfflineTokenRotation } from './offline-token-grant.entity';
import { jwtHints, offlineTokenCandidates } from './offline-token-shape';

/** An exchanged offline token: whose it is, and until when the exchange is trusted. */
interface Exchange {
  readonly userId: string;
  readonly provider: string;
  /** The user's epoch when the token was first accepted: any other epoch now means a revoke-all came after. */
  readonly epoch: number;
  /** Just before the IdP access token expires (ms since epoch). */
  readonly validUntil: number;
}

const MAX_CACHED = 50_000;
/** Stored rotated refresh tokens unused this long are deleted (IdPs end idle offline sessions sooner by default). */
const ROTATION_RETENTION_MS = 180 * 24 * 3600_000;
const ROTATION_PURGE_INTERVAL_MS = 3600_000;
/** How long an exchange waits for another instance's exchange of the same token (PostgreSQL lock). */
const LOCK_POLL_MS = 25;
/** Upper bound on how long a shared exchange is kept in Redis (each expires at its own `validUntil` first). */
const SHARED_MAX_MS = 24 * 3600_000;

/**
 * IdP offline refresh tokens used directly as `Authorization: Bearer`. The first request with a
 * token exchanges it at the IdP (refresh grant) and validates the access token it gets (JWKS
 * signature, issuer, audience, expiry); the result is cached under a keyed hash of the offline
 * token until just before that access token expires, so later requests cost no IdP call.
 * Concurrent first requests share one exchange (single flight). A refused token is remembered
 * for OFFLINE_TOKEN_NEGATIVE_TTL seconds. The offline token is never stored or logged.
 *
 * Before any IdP call (see offlineTokenCandidates, IdpExchangeLimits): a value no configured
 * provider can have issued is refused at once (a JWT needs a provider's `iss`; an opaque value a
 * provider with OIDC_<NAME>_OPAQUE_OFFLINE_TOKENS=true); an exchange that misses the caches
 * costs the client address one of its OIDC_EXCHANGES_PER_IP (429 beyond) and waits for one of
 * OIDC_EXCHANGE_CONCURRENCY slots (503 beyond the queue); a token the IdP refuses is a failed
 * login of that address (its login budget, and a `login.failed` audit event).
 *
 * Revoke-all ends every offline token of the user: each accepted token is recorded (keyed hash,
 * user, the user's epoch then) in `offline_token_grants`, every use compares that epoch with the
 * user's current one (the user-state cache, invalidated on every instance through Redis), and a
 * token first used before the bump is refused for good, before any IdP call. A token first seen
 * after the bump is refused when it says it was issued before it (`iat` of a JWT offline token, or
 * the `auth_time` of the IdP's access token; `offline_token_floors`). Disabling the user refuses
 * every token while the account is disabled.
 *
 * With Redis, an exchange is shared (user, provider and epoch, under the keyed hash, until the same
 * instant): another instance that meets the token uses it instead of calling the IdP again.
 * Refusals stay per instance.
 *
 * IdPs that rotate refresh tokens (each exchange returns a new one and invalidates the old; a
 * reused one may end the whole grant): the new token is stored sealed in `offline_token_rotations`
 * under the keyed hash of the token the user presents, as soon as the IdP answers, and every
 * later exchange, on any instance, sends the newest one; so the user's token keeps working as long
 * as the IdP grant lives. Exchanges of one token never run at the same time: single flight per
 * instance and, on PostgreSQL, an advisory lock across instances (the one that waited then finds
 * the other's exchange in Redis, or exchanges the newest token).
 */
@Injectable()
export class OfflineTokensService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OfflineTokensService.name);
  private readonly clients: readonly OidcClient[];
  private readonly exchanges = new Map<string, Exchange>();
  private readonly inflight = new Map<string, Promise<Exchange>>();
  private readonly refused: TtlCache<true>;
  /** Presented offline tokens → their keyed hash, the key of everything below (null: no provider could have issued it). */
  private readonly presented: KeyedHashes;
  /** Exchanges other instances made (no expiry of its own: each entry carries its `validUntil`). */
  private readonly shared: SharedTier<Exchange>;
  /** Seals the IdP's rotated refresh tokens at rest. */
  private readonly box: SealedBox;
  /** Providers already reported as rotating refresh tokens (one warning each per process). */
  private readonly rotating = new Set<string>();
  private readonly lockWaitMs: number;
  private readonly leases: RawSql;
  private readonly purgeJob = new PeriodicJob('purging rotated offline tokens', this.logger, () => this.purgeRotations());
  private readonly stats: CacheCounts = CacheStats.for('offline-token-exchange');

  constructor(
    private readonly users: UsersService,
    providers: OidcProviders,
    @InjectConfig() private readonly config: AppConfig,
    redis: RedisService,
    private readonly limits: IdpExchangeLimits,
    private readonly loginAudit: LoginAudit,
    @InjectRepository(OfflineTokenGrant) private readonly grants: Repository<OfflineTokenGrant>,
    @InjectRepository(OfflineTokenFloor) private readonly floors: Repository<OfflineTokenFloor>,
    @InjectRepository(OfflineTokenRotation) private readonly rotations: Repository<OfflineTokenRotation>,
    @InjectRepository(OfflineTokenLease) leases: Repository<OfflineTokenLease>,
  ) {
    this.leases = new RawSql(leases);
    this.clients = providers.clients;
    this.refused = new TtlCache(config.oidc.negativeCacheTtl * 1000, 10_000);
    // The shape check runs once per new value (a remembered one is known to pass): no cost on a cache hit.
    this.presented = new KeyedHashes(config.auth.tokenPepper, (token) => offlineTokenCandidates(token, this.clients).length > 0);
    this.shared = new SharedTier<Exchange>(redis, 'offline-token-exchange', SHARED_MAX_MS);
    this.box = new SealedBox(config.auth.secretKeys, 'offline-token-rotation');
    // Another instance's exchange of the same token takes at most its IdP calls (token, then keys).
    this.lockWaitMs = 2 * config.oidc.httpTimeoutMs + 1000;
  }

  onModuleInit(): void {
    this.users.registerRevoker({ name: 'offline_tokens', revokeAllOf: (userId) => this.revokeAllOf(userId) });
  }

  onApplicationBootstrap(): void {
    if (!this.enabled || this.config.env === 'test') return; // tests call purgeRotations() themselves
    this.purgeJob.start(ROTATION_PURGE_INTERVAL_MS);
  }

  onApplicationShutdown(): void {
    this.purgeJob.stop();
  }

  /** Deletes stored rotated tokens unused for 180 days (and leases a crashed instance left); returns how many rotations. */
  async purgeRotations(now = new Date()): Promise<number> {
    const result = await this.rotations.delete({ updatedAt: LessThan(new Date(now.getTime() - ROTATION_RETENTION_MS)) });
    if (this.leases.postgres) await this.leases.query(`DELETE FROM ${this.leases.table} WHERE expires_at < $1`, [now]);
    return result.affected ?? 0;
  }

  get enabled(): boolean {
    return this.clients.length > 0;
  }

  /** Synchronous when the exchange and the user are cached (the usual case); a promise otherwise. */
  authenticate(token: string, clientIp?: string | null): MaybePromise<UserPrincipal> {
    const key = this.presented.of(token);
    if (key === null) throw idpCredentialRefused(); // no configured provider can have issued it: no IdP call
    const exchange = this.exchanges.get(key);
    if (exchange && exchange.validUntil > Date.now()) {
      this.stats.hits++;
      return this.principalOf(key, exchange);
    }
    if (this.refused.get(key)) {
      this.stats.hits++;
      throw idpCredentialRefused();
    }
    return this.singleFlight(key, token, clientIp).then((fresh) => this.principalOf(key, fresh));
  }

  private principalOf(key: string, exchange: Exchange): MaybePromise<UserPrincipal> {
    return andThen(this.users.state(exchange.userId), (owner) => this.ownedBy(key, exchange, owner));
  }

  private ownedBy(key: string, exchange: Exchange, owner: UserState): UserPrincipal {
    // A revoke-all after this token was accepted ends it, here and (through the grant) at every later exchange.
    return idpCredentialPrincipal(exchange, owner, { type: 'oidc', provider: exchange.provider }, () => {
      this.exchanges.delete(key);
      this.refused.set(key, true);
    });
  }

  private singleFlight(key: string, token: string, clientIp: string | null | undefined): Promise<Exchange> {
    let flight = this.inflight.get(key);
    if (!flight) {
      flight = this.resolve(key, token, clientIp).finally(() => this.inflight.delete(key));
      this.inflight.set(key, flight);
    }
    return flight;
  }

  /**
   * Another instance's exchange from Redis when there is one, else an exchange at the IdP, one at
   * a time across instances (looked up again once the lock is ours: the holder may have made it).
   */
  private async resolve(key: string, token: string, clientIp: string | null | undefined): Promise<Exchange> {
    const shared = await this.sharedExchange(key);
    if (shared) return shared;
    return this.oneAtATime(key, async () => {
      const meanwhile = await this.sharedExchange(key);
      if (meanwhile) return meanwhile;
      this.stats.misses++;
      return this.exchange(key, token, clientIp);
    });
  }

  private async sharedExchange(key: string): Promise<Exchange | undefined> {
    const shared = await this.shared.read(key);
    if (!shared || !(shared.value.validUntil > Date.now()) || typeof shared.value.epoch !== 'number') return undefined;
    this.stats.hits++;
    const { userId, provider, epoch, validUntil } = shared.value;
    const exchange: Exchange = { userId, provider, epoch, validUntil };
    this.remember(key, exchange);
    return exchange;
  }

  /**
   * Runs `work` while this instance holds the lease on this token (PostgreSQL, several
   * instances): an IdP that rotates refresh tokens must never get the same one twice, which two
   * instances exchanging one token at once would do. A lease is a row with an expiry (the longest
   * an exchange may take), taken by one statement and polled for, so no connection is held while
   * the IdP answers (an advisory lock held one pooled connection per exchange: ten new tokens at
   * once took the whole pool). A crashed holder's lease runs out by itself. Past the wait, 503.
   * SQLite serves one instance, where single flight already does this.
   */
  private async oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
    if (!this.leases.postgres) return work();
    const holder = randomUUID();
    const deadline = Date.now() + this.lockWaitMs;
    const take = `INSERT INTO ${this.leases.table} (token_hash, holder, expires_at) VALUES ($1, $2, now() + ($3 * interval '1 millisecond'))
      ON CONFLICT (token_hash) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
      WHERE ${this.leases.table}.expires_at < now() RETURNING holder`;
    while ((await this.leases.query(take, [key, holder, this.lockWaitMs])).length === 0) {
      if (Date.now() > deadline) throw new AppError('SERVICE_UNAVAILABLE', 'This token is being exchanged at the identity provider; retry shortly.', { headers: { 'Retry-After': '2' } });
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
    try {
      return await work();
    } finally {
      await this.leases.query(`DELETE FROM ${this.leases.table} WHERE token_hash = $1 AND holder = $2`, [key, holder]).catch((error: Error) => {
        this.logger.warn(`could not release the exchange lease of an offline token (it runs out by itself): ${error.message}`);
      });
    }
  }

  /** The newest refresh token the IdP gave for this offline token, when it rotates them. */
  private async latestRotation(key: string): Promise<{ provider: string; token: string } | undefined> {
    const row = await this.rotations.findOne({ where: { tokenHash: key } });
    const token = row ? this.box.open(row.sealedToken) : undefined;
    return row && token ? { provider: row.provider, token } : undefined;
  }

  /** Keeps the IdP's new refresh token (sealed) before anything else can fail, and says once per provider that it rotates. */
  private async keepRotation(key: string, provider: string, token: string): Promise<void> {
    await this.rotations.upsert({ tokenHash: key, provider, sealedToken: this.box.seal(token), updatedAt: new Date() }, ['tokenHash']);
    if (!this.rotating.has(provider)) {
      this.rotating.add(provider);
      this.logger.warn(
        `the identity provider "${provider}" rotates refresh tokens: each offline token's newest form is kept sealed in offline_token_rotations and exchanged one at a time (docs/oidc.md)`,
      );
    }
  }

  private remember(key: string, exchange: Exchange): void {
    if (this.exchanges.size >= MAX_CACHED && !this.exchanges.has(key)) this.exchanges.delete(this.exchanges.keys().next().value!);
    this.exchanges.set(key, exchange);
  }

  /**
   * An exchange at the IdP, within the address's budget and the concurrency cap. What goes to the
   * IdP is the newest rotated form of the token when there is one, else what the client sent.
   */
  private async exchange(key: string, presented: string, clientIp: string | null | undefined): Promise<Exchange> {
    let candidates = offlineTokenCandidates(presented, this.clients);
    await this.limits.admit(clientIp);
    const rotation = await this.latestRotation(key);
    if (rotation) candidates = candidates.filter((c) => c.config.name === rotation.provider);
    const token = rotation?.token ?? presented;
    const grant = await this.grants.findOne({ where: { tokenHash: key } });
    if (grant) {
      const owner = await this.users.state(grant.userId);
      if (!owner.exists || owner.epoch !== grant.userEpoch) {
        return this.refuse(key, clientIp, 'revoked', { provider: grant.provider, account: owner.exists ? { id: grant.userId, username: owner.username } : null });
      }
    }
    let admitted = true;
    for (const client of candidates) {
      try {
        if (!admitted) await this.limits.admit(clientIp); // one budget unit per IdP call
        admitted = false;
        const { result, claims } = await this.limits.run(async () => {
          const result = await client.refresh(token);
          // The IdP has just invalidated `token`: keep its successor before anything else can fail.
          if (result.refreshToken && result.refreshToken !== token) await this.keepRotation(key, client.config.name, result.refreshToken);
          return { result, claims: await client.verifyAccessToken(result.accessToken) };
        });
        const user = await this.users.findOrCreateByIdentity(
          client.config.name,
          client.config.issuer,
          claims.sub,
          () => client.usernameFor(claims, result),
          client.groupsOf(claims),
        );
        const owner = await this.users.state(user.id);
        const account = { id: user.id, username: user.username };
        if (grant && grant.userId !== user.id) return this.refuse(key, clientIp, 'revoked', { provider: client.config.name, account });
        if (!grant) {
          const issuedAt = jwtHints(presented)?.iat ?? (typeof claims.auth_time === 'number' ? claims.auth_time : undefined);
          if (issuedAt !== undefined && (await issuedBeforeRevokeAll(this.floors, user.id, issuedAt))) {
            return this.refuse(key, clientIp, 'revoked', { provider: client.config.name, account });
          }
          await this.grants
            .createQueryBuilder()
            .insert()
            .values({ tokenHash: key, userId: user.id, provider: client.config.name, userEpoch: owner.epoch, createdAt: new Date() })
            .orIgnore()
            .execute();
        }
        const now = Date.now();
        const lifetime = claims.exp * 1000 - now;
        const exchange: Exchange = {
          userId: user.id,
          provider: client.config.name,
          epoch: grant?.userEpoch ?? owner.epoch,
          validUntil: now + lifetime - Math.min(30_000, Math.max(0, lifetime / 10)),
        };
        this.remember(key, exchange);
        this.shared.fill(key, exchange, exchange.validUntil);
        return exchange;
      } catch (error) {
        if (error instanceof AppError && error.status === 401) continue; // not this IdP's, or refused
        throw error; // 503: the IdP is down or busy; 429: over budget
      }
    }
    return this.refuse(key, clientIp, 'invalid_token', { provider: candidates.length === 1 ? candidates[0].config.name : 'oidc', account: null });
  }

  /** A refused exchange: remembered for a while, a failed login of the address, audited (no token text). */
  private async refuse(
    key: string,
    clientIp: string | null | undefined,
    reason: 'invalid_token' | 'revoked',
    who: { provider: string; account: { id: string; username: string } | null },
  ): Promise<never> {
    this.refused.set(key, true);
    this.exchanges.delete(key);
    this.logger.warn(reason === 'revoked' ? 'an offline token issued or used before a revoke-all was refused' : 'an offline token was refused by every configured identity provider');
    await this.limits.refused(clientIp);
    await this.loginAudit.failed(who.provider, 'oidc-offline-token', reason === 'revoked' ? 'offline_token_revoked' : 'offline_token_refused', who.account);
    throw reason === 'revoked' ? idpCredentialRevoked() : idpCredentialRefused();
  }

  /** Revoke-all (after the epoch bump): IdP tokens issued before now are refused from now on. */
  private async revokeAllOf(userId: string): Promise<number> {
    await this.floors.upsert({ userId, notBefore: new Date() }, ['userId']);
    // The rotated forms of the user's tokens are refused from now on (their grants' epoch): drop the secrets too.
    const hashes = (await this.grants.find({ where: { userId }, select: { tokenHash: true } })).map((g) => g.tokenHash);
    for (let i = 0; i < hashes.length; i += 500) await this.rotations.delete({ tokenHash: In(hashes.slice(i, i + 500)) });
    for (const [key, exchange] of this.exchanges) if (exchange.userId === userId) this.exchanges.delete(key);
    return this.grants.count({ where: { userId } });
  }
}
