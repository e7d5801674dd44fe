import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { RedisService } from '../common/redis/redis.service';
import { AppConfig, InjectConfig } from '../config/app.config';

/** Added to ACCESS_TOKEN_MAX_AGE: clock skew between instances and a refresh racing the revocation. */
export const REVOKED_SESSION_MARGIN_MS = 60_000;
const SWEEP_MS = 60_000;
const MAX_UNSENT = 100_000;
/** Redis sorted set: member = session id, score = until when its access tokens must be refused (ms). */
const KEY = 'revoked-sessions';
const CHANNEL = 'revoked-sessions';

/**
 * Sessions revoked recently enough that access tokens minted for them may still be unexpired:
 * session id → until (revocation + ACCESS_TOKEN_MAX_AGE + a margin). The access-token strategy
 * asks `has(sid)` on every request: one in-memory Map lookup, no I/O.
 *
 * Filled here when this instance revokes a session, from Redis pub/sub when another one does,
 * and at start (and after every Redis reconnection, when messages may have been missed) from a
 * Redis sorted set holding the revocations still in their window. Without Redis the list is per
 * instance: another instance keeps accepting the session's access tokens until they expire.
 * A revocation made while Redis is unreachable is kept and sent when it returns.
 */
@Injectable()
export class RevokedSessions implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RevokedSessions.name);
  private readonly until = new Map<string, number>();
  private readonly unsent = new Map<string, number>();
  private readonly windowMs: number;
  private sweeper?: NodeJS.Timeout;

  constructor(
    @InjectConfig() config: AppConfig,
    @Optional() private readonly redis?: RedisService,
  ) {
    this.windowMs = config.auth.accessTokenMaxAge * 1000 + REVOKED_SESSION_MARGIN_MS;
    if (redis?.enabled) {
      redis.subscribe(CHANNEL, (message) => this.receive(message));
      redis.onReconnect(() => void this.sync());
    }
  }

  async onModuleInit(): Promise<void> {
    await this.sync();
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** Whether access tokens of this session must be refused (the hot path: a Map lookup). */
  has(sessionId: string): boolean {
    const until = this.until.get(sessionId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.until.delete(sessionId);
    return false;
  }

  /** How many revocations are held (tests, metrics). */
  get size(): number {
    return this.until.size;
  }

  /** Refuses the access tokens of these sessions here at once and, with Redis, on every instance (never throws). */
  async add(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    const until = Date.now() + this.windowMs;
    for (const id of sessionIds) this.remember(id, until);
    if (!this.redis?.enabled) return;
    const entries = sessionIds.map((id) => [id, until] as const);
    if (await this.send(entries)) return;
    for (const [id, at] of entries) {
      if (this.unsent.size >= MAX_UNSENT) this.unsent.delete(this.unsent.keys().next().value!);
      this.unsent.set(id, at);
    }
  }

  /** Loads the revocations still in their window from Redis and sends those made while it was away. */
  async sync(): Promise<void> {
    const redis = this.redis;
    if (!redis?.available) return;
    try {
      const key = redis.key(KEY);
      const now = Date.now();
      await redis.client!.zremrangebyscore(key, '-inf', now);
      const flat = await redis.client!.zrangebyscore(key, `(${now}`, '+inf', 'WITHSCORES');
      for (let i = 0; i + 1 < flat.length; i += 2) this.remember(flat[i], Number(flat[i + 1]));
    } catch (error) {
      this.logger.warn(`could not load revoked sessions from Redis: ${(error as Error).message}`);
      return;
    }
    const now = Date.now();
    const pending = [...this.unsent].filter(([, until]) => until > now);
    this.unsent.clear();
    if (pending.length === 0) return;
    this.logger.log(`sending ${pending.length} session revocations made while Redis was unavailable`);
    if (!(await this.send(pending))) for (const [id, until] of pending) this.unsent.set(id, until);
  }

  private async send(entries: readonly (readonly [string, number])[]): Promise<boolean> {
    const redis = this.redis!;
    if (!redis.available) return false;
    try {
      const key = redis.key(KEY);
      const results = await redis
        .client!.pipeline()
        .zadd(key, ...entries.flatMap(([id, until]) => [until, id]))
        .zremrangebyscore(key, '-inf', Date.now())
        .exec();
      if (!results || results.some(([error]) => error)) return false;
      return await redis.publish(CHANNEL, entries.map(([id, until]) => `${id}:${until}`).join(' '));
    } catch {
      return false;
    }
  }

  /** `id:until id:until …` from another instance. */
  private receive(message: string): void {
    for (const item of message.split(' ')) {
      const at = item.lastIndexOf(':');
      const until = Number(item.slice(at + 1));
      if (at > 0 && Number.isFinite(until)) this.remember(item.slice(0, at), until);
    }
  }

  private remember(id: string, until: number): void {
    if (until <= Date.now()) return;
    const known = this.until.get(id);
    if (known === undefined || known < until) this.until.set(id, until);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, until] of this.until) if (until <= now) this.until.delete(id);
  }
}
