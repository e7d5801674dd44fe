import { Injectable, Logger } from '@nestjs/common';
import { KeyedHashes } from '../../common/auth/presented-secrets';
import type { UserPrincipal } from '../../common/auth/principal';
import { scopesForRoles } from '../../common/auth/scopes';
import { CacheCounts, CacheStats } from '../../common/cache/cache-stats';
import { SharedTier } from '../../common/cache/shared-tier';
import { TtlCache } from '../../common/cache/ttl-cache';
import { RedisService } from '../../common/redis/redis.service';
import { AppError, unauthorized } from '../../common/errors/app-error';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { UsersService } from '../../users/users.service';
import type { UserState } from '../../users/user-state.cache';
import { andThen, type MaybePromise } from '../../common/maybe-async';
import { OidcClient } from './oidc-client';
import { OidcProviders } from './oidc-providers';

/** An exchanged offline token: whose it is, and until when the exchange is trusted. */
interface Exchange {
  readonly userId: string;
  readonly provider: string;
  /** Just before the IdP access token expires (ms since epoch). */
  readonly validUntil: number;
  /** When the IdP rotates refresh tokens: the newest one, used for the next exchange (memory only). */
  readonly rotatedTo?: string;
}

/** What other instances may reuse of an exchange: never the IdP's tokens. */
type SharedExchange = Pick<Exchange, 'userId' | 'provider' | 'validUntil'>;

const MAX_CACHED = 50_000;
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
 * With Redis, an exchange is shared (user and provider, under the keyed hash, until the same
 * instant): another instance that meets the token uses it instead of calling the IdP again.
 * A token the IdP rotated on exchange is known, in its new form, only to the instance that
 * exchanged it (it is a secret and stays in memory), so prefer non-rotating offline tokens
 * when running several instances. Refusals stay per instance.
 */
@Injectable()
export class OfflineTokensService {
  private readonly logger = new Logger(OfflineTokensService.name);
  private readonly clients: readonly OidcClient[];
  private readonly exchanges = new Map<string, Exchange>();
  private readonly inflight = new Map<string, Promise<Exchange>>();
  private readonly refused: TtlCache<true>;
  /** Presented offline tokens → their keyed hash, the key of everything below. */
  private readonly presented: KeyedHashes;
  /** Exchanges other instances made (no expiry of its own: each entry carries its `validUntil`). */
  private readonly shared: SharedTier<SharedExchange>;
  private readonly stats: CacheCounts = CacheStats.for('offline-token-exchange');

  constructor(
    private readonly users: UsersService,
    providers: OidcProviders,
    @InjectConfig() config: AppConfig,
    redis: RedisService,
  ) {
    this.clients = providers.clients;
    this.refused = new TtlCache(config.oidc.negativeCacheTtl * 1000, 10_000);
    this.presented = new KeyedHashes(config.auth.tokenPepper);
    this.shared = new SharedTier<SharedExchange>(redis, 'offline-token-exchange', SHARED_MAX_MS);
  }

  get enabled(): boolean {
    return this.clients.length > 0;
  }

  /** Synchronous when the exchange and the user are cached (the usual case); a promise otherwise. */
  authenticate(token: string): MaybePromise<UserPrincipal> {
    const key = this.presented.of(token)!;
    const exchange = this.exchanges.get(key);
    if (exchange && exchange.validUntil > Date.now()) {
      this.stats.hits++;
      return this.principalOf(exchange);
    }
    if (this.refused.get(key)) {
      this.stats.hits++;
      throw refusedError();
    }
    return this.singleFlight(key, token, exchange).then((fresh) => this.principalOf(fresh));
  }

  private principalOf(exchange: Exchange): MaybePromise<UserPrincipal> {
    return andThen(this.users.state(exchange.userId), (owner) => this.ownedBy(exchange, owner));
  }

  private ownedBy(exchange: Exchange, owner: UserState): UserPrincipal {
    if (!owner.exists) throw unauthorized('AUTH_INVALID_TOKEN', 'Principal no longer exists.');
    if (owner.status !== 'active') throw unauthorized('AUTH_USER_INACTIVE', 'This account is disabled.');
    return {
      kind: 'user',
      userId: exchange.userId,
      username: owner.username,
      roles: owner.roles,
      groups: owner.groups,
      scopes: scopesForRoles(owner.roles),
      credential: { type: 'oidc', provider: exchange.provider },
    };
  }

  private singleFlight(key: string, token: string, previous: Exchange | undefined): Promise<Exchange> {
    let flight = this.inflight.get(key);
    if (!flight) {
      flight = this.resolve(key, token, previous).finally(() => this.inflight.delete(key));
      this.inflight.set(key, flight);
    }
    return flight;
  }

  /** Another instance's exchange from Redis when there is one, else an exchange at the IdP. */
  private async resolve(key: string, token: string, previous: Exchange | undefined): Promise<Exchange> {
    const shared = await this.shared.read(key);
    if (shared && shared.value.validUntil > Date.now()) {
      this.stats.hits++;
      const exchange: Exchange = { ...shared.value, rotatedTo: previous?.rotatedTo };
      this.remember(key, exchange);
      return exchange;
    }
    this.stats.misses++;
    return this.exchange(key, previous?.rotatedTo ?? token);
  }

  private remember(key: string, exchange: Exchange): void {
    if (this.exchanges.size >= MAX_CACHED && !this.exchanges.has(key)) this.exchanges.delete(this.exchanges.keys().next().value!);
    this.exchanges.set(key, exchange);
  }

  private async exchange(key: string, token: string): Promise<Exchange> {
    for (const client of this.candidates(token)) {
      try {
        const result = await client.refresh(token);
        const claims = await client.verifyAccessToken(result.accessToken);
        const user = await this.users.findOrCreateByIdentity(client.config.name, client.config.issuer, claims.sub, () =>
          client.usernameFor(claims, result),
        );
        const now = Date.now();
        const lifetime = claims.exp * 1000 - now;
        const exchange: Exchange = {
          userId: user.id,
          provider: client.config.name,
          validUntil: now + lifetime - Math.min(30_000, Math.max(0, lifetime / 10)),
          rotatedTo: result.refreshToken && result.refreshToken !== token ? result.refreshToken : undefined,
        };
        this.remember(key, exchange);
        this.shared.fill(key, { userId: exchange.userId, provider: exchange.provider, validUntil: exchange.validUntil }, exchange.validUntil);
        return exchange;
      } catch (error) {
        if (error instanceof AppError && error.status === 401) continue; // not this IdP's, or refused
        throw error; // 503: the IdP is down
      }
    }
    this.refused.set(key, true);
    this.exchanges.delete(key);
    this.logger.warn('an offline token was refused by every configured identity provider');
    throw refusedError();
  }

  /** The providers that may have issued this token: by `iss` when it is a JWT, else all of them. */
  private candidates(token: string): readonly OidcClient[] {
    if (this.clients.length <= 1) return this.clients;
    const iss = issuerOf(token);
    const match = iss ? this.clients.filter((c) => c.config.issuer === iss.replace(/\/+$/, '')) : [];
    return match.length > 0 ? match : this.clients;
  }
}

function refusedError(): AppError {
  return unauthorized('AUTH_INVALID_TOKEN', 'Could not validate credentials');
}

function issuerOf(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}
