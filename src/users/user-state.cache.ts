import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';
import { isDatabaseUnavailable } from '../common/errors/database-errors';
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
 * a JWT request needs no database query. That TTL bounds how long *another* instance may accept
 * a credential after revoke-all or disabling; the instance that made the change updates its
 * entry at once. If the database cannot be reached when an entry goes stale, the stale entry
 * keeps serving (stateless JWTs survive a database outage); with no entry at all the request
 * fails with 503.
 */
@Injectable()
export class UserStateCache {
  private readonly logger = new Logger(UserStateCache.name);
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<UserState>>();
  private readonly ttlMs: number;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectConfig() config: AppConfig,
  ) {
    this.ttlMs = config.auth.userCacheTtl * 1000;
  }

  /** Fresh state (sync) when cached, else a promise of it. */
  get(userId: string): UserState | Promise<UserState> {
    const entry = this.entries.get(userId);
    if (entry && entry.freshUntil > Date.now()) return entry.state;
    return this.load(userId, entry);
  }

  /** Record a change made on this instance (revoke-all, disable) so it applies at once. */
  set(userId: string, state: UserState): void {
    this.store(userId, state);
  }

  /** The user was deleted on this instance: their credentials fail at once here. */
  setGone(userId: string): void {
    this.store(userId, GONE);
  }

  private load(userId: string, stale: Entry | undefined): Promise<UserState> {
    let pending = this.loading.get(userId);
    if (!pending) {
      pending = this.users
        .findOne({
          where: { id: userId },
          select: { id: true, epoch: true, status: true, username: true, roles: true, groups: true },
        })
        .then(
          (user) => this.store(userId, user ? userState(user) : GONE),
          (error: unknown) => {
            if (stale && isDatabaseUnavailable(error)) {
              this.logger.warn(`database unavailable; serving cached state of user ${userId}`);
              return stale.state;
            }
            throw error;
          },
        )
        .finally(() => this.loading.delete(userId));
      this.loading.set(userId, pending);
    }
    return pending;
  }

  private store(userId: string, state: UserState): UserState {
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(userId)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.delete(userId);
    this.entries.set(userId, { state, freshUntil: Date.now() + this.ttlMs });
    return state;
  }
}
