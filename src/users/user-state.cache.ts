import { Injectable, Logger, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';
import { isDatabaseUnavailable } from '../common/errors/database-errors';
import { CacheCounts, CacheStats } from '../common/cache/cache-stats';
import { SharedTier } from '../common/cache/shared-tier';
import { RedisService } from '../common/redis/redis.service';
import { User, UserStatus } from './user.entity';

/** What a verifier needs to know about a credential's owner, without a query per request. */
export interface UserState {
  readonly epoch: number;
  readonly status: UserStatus;
  /** false when the user row no longer exists. */
  readonly exists: boolean;
  readonly username: string;
  readonly roles: readonly string[];
  readonly groups: readonly string[];
}

interface Entry {
  state: UserState;
  freshUntil: number;
}

const MAX_ENTRIES = 100_000;
const GONE: UserState = Object.freeze({
  epoch: Number.MAX_SAFE_INTEGER,
  status: 'disabled',
  exists: false,
  username: '',
  roles: [],
  groups: [],
});

export function userState(user: Pick<User, 'epoch' | 'status' | 'username' | 'roles' | 'groups'>): UserState {
  return Object.freeze({
    epoch: user.epoch,
    status: user.status,
    exists: true,
    username: user.username,
    roles: Object.freeze([...user.roles]),
    groups: Object.freeze([...(user.groups ?? [])]),
  });
}

/**
 * The user facts every verifier checks (epoch, status, roles), cached for `USER_CACHE_TTL` seconds so
 * a JWT request needs no database query. The instance that makes a change (revoke-all, disable,
 * role change, deletion) updates its entry at once.
 *
 * Without Redis, that TTL bounds how long *another* instance may accept a credential after the
 * change. With Redis (`SharedTier`), a change is published and every instance marks its entry
 * stale at once (the next request re-reads the database), and an instance that has no entry
 * asks Redis before the database. Either way no copy of a state outlives the database read
 * behind it by more than the TTL.
 *
 * If the database cannot be reached when an entry goes stale, the stale entry keeps serving
 * (stateless JWTs survive a database outage); with no entry at all the request fails with 503.
 */
@Injectable()
export class UserStateCache {
  private readonly logger = new Logger(UserStateCache.name);
  private readonly entries = new Map<string, Entry>();
  /** Loads in progress (single flight); a load that a change overtook does not store its answer. */
  private readonly loading = new Map<string, Promise<UserState>>();
  private readonly ttlMs: number;
  private readonly shared: SharedTier<UserState>;
  private readonly stats: CacheCounts = CacheStats.for('user-state');

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectConfig() config: AppConfig,
    @Optional() redis?: RedisService,
  ) {
    this.ttlMs = config.auth.userCacheTtl * 1000;
    this.shared = new SharedTier<UserState>(redis, 'user-state', this.ttlMs, (userId) => this.markStale(userId));
  }

  /** Fresh state (sync) when cached, else a promise of it. */
  get(userId: string): UserState | Promise<UserState> {
    const entry = this.entries.get(userId);
    if (entry && entry.freshUntil > Date.now()) {
      this.stats.hits++;
      return entry.state;
    }
    return this.load(userId, entry);
  }

  /**
   * Record a change made on this instance (revoke-all, disable, roles) so it applies here at
   * once; with Redis, the other instances drop their copy (resolves once published; never throws).
   */
  async set(userId: string, state: UserState): Promise<void> {
    this.loading.delete(userId);
    this.store(userId, state, Date.now() + this.ttlMs);
    await this.shared.invalidate([userId]);
  }

  /** The user was deleted on this instance: their credentials fail at once here (and, with Redis, everywhere). */
  setGone(userId: string): Promise<void> {
    return this.set(userId, GONE);
  }

  /** Another instance changed this user: re-read before trusting the entry again (kept for database outages). */
  private markStale(userId: string): void {
    this.loading.delete(userId);
    const entry = this.entries.get(userId);
    if (entry) entry.freshUntil = 0;
  }

  private load(userId: string, stale: Entry | undefined): Promise<UserState> {
    let pending = this.loading.get(userId);
    if (!pending) {
      const flight: Promise<UserState> = this.read(userId, stale, () => this.loading.get(userId) === flight).finally(() => {
        if (this.loading.get(userId) === flight) this.loading.delete(userId);
      });
      pending = flight;
      this.loading.set(userId, pending);
    }
    return pending;
  }

  private async read(userId: string, stale: Entry | undefined, current: () => boolean): Promise<UserState> {
    const shared = await this.shared.read(userId);
    if (shared) {
      this.stats.hits++;
      const state = Object.freeze({ ...shared.value, roles: Object.freeze([...shared.value.roles]), groups: Object.freeze([...shared.value.groups]) });
      if (current()) this.store(userId, state, shared.until);
      return state;
    }
    this.stats.misses++;
    const until = Date.now() + this.ttlMs; // fixed before the read: bounds every copy of it
    let user: User | null;
    try {
      user = await this.users.findOne({
        where: { id: userId },
        select: { id: true, epoch: true, status: true, username: true, roles: true, groups: true },
      });
    } catch (error) {
      if (stale && isDatabaseUnavailable(error)) {
        this.logger.warn(`database unavailable; serving cached state of user ${userId}`);
        return stale.state;
      }
      throw error;
    }
    const state = user ? userState(user) : GONE;
    if (current()) {
      this.store(userId, state, until);
      this.shared.fill(userId, state, until);
    }
    return state;
  }

  private store(userId: string, state: UserState, freshUntil: number): void {
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(userId)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.delete(userId);
    this.entries.set(userId, { state, freshUntil });
  }
}
