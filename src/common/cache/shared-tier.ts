import { Logger } from '@nestjs/common';
import type { RedisService } from '../redis/redis.service';

/** A value of the shared tier and the moment it stops being trusted (ms since epoch). */
export interface SharedEntry<V> {
  readonly value: V;
  readonly until: number;
}

/** Written over an invalidated key, so a load that read the database before the change cannot put the old value back. */
const TOMBSTONE = '-';
/** Invalidations that could not reach Redis, kept per cache until it returns (older ones are moot). */
const MAX_UNSENT = 10_000;
const BATCH = 500;

/**
 * The Redis level of one named in-memory cache (`user-state`, `api-key-lookup`, …), shared by
 * every instance, and the channel on which its invalidations travel. The in-memory level stays
 * in front: a hot entry costs no round trip. Rules that keep a revoked credential from living
 * longer than the cache's TTL whatever happens to Redis:
 * - every value carries the instant it stops being trusted, fixed *before* the database read
 *   that produced it (`until` = read start + TTL), and whoever copies it (Redis, another
 *   instance's memory) keeps that instant: no copy of a pre-revocation read outlives
 *   revocation + TTL;
 * - `invalidate` overwrites the Redis entries with a tombstone for one TTL (fills are `SET NX`,
 *   so a load racing the revocation cannot restore the old value), then publishes the keys;
 *   every other instance drops its local entries on the message;
 * - when Redis is off or down, reads are misses (callers use the database) and fills and
 *   invalidations are skipped; invalidations that failed are sent again when Redis returns,
 *   unless one TTL has passed since (by then every copy has expired anyway).
 * Never throws.
 */
export class SharedTier<V> {
  private readonly logger = new Logger(SharedTier.name);
  private readonly unsent = new Map<string, number>();
  private readonly channel: string;

  constructor(
    private readonly redis: RedisService | undefined,
    readonly name: string,
    private readonly ttlMs: number,
    /** Called with each key another instance invalidated (not for this instance's own). */
    onInvalidated?: (key: string) => void,
  ) {
    this.channel = `invalidate:${name}`;
    if (!redis?.enabled) return;
    if (onInvalidated) {
      redis.subscribe(this.channel, (message) => {
        const [origin, ...keys] = message.split(' ');
        if (origin === redis.instanceId) return;
        for (const key of keys) if (key) onInvalidated(key);
      });
    }
    redis.onReconnect(() => void this.sendUnsent());
  }

  /** Whether reads and fills go to Redis at all (configured, and the TTL is not 0). */
  get enabled(): boolean {
    return !!this.redis?.enabled && this.ttlMs > 0;
  }

  /** The shared entry for `key`, or undefined (none, invalidated, expired, or Redis unavailable). */
  async read(key: string): Promise<SharedEntry<V> | undefined> {
    if (!this.enabled || !this.redis!.available) return undefined;
    try {
      const raw = await this.redis!.client!.get(this.redisKey(key));
      if (!raw || raw === TOMBSTONE) return undefined;
      const parsed = JSON.parse(raw) as { u?: unknown; v?: V };
      if (typeof parsed.u !== 'number' || parsed.u <= Date.now() || parsed.v === undefined) return undefined;
      return { value: parsed.v, until: Math.min(parsed.u, Date.now() + this.ttlMs) };
    } catch {
      return undefined;
    }
  }

  /** Offers a freshly loaded value to the other instances, trusted until `until` (fire and forget). */
  fill(key: string, value: V, until: number): void {
    // PX takes whole milliseconds: a fractional one is an error ("value is not an integer"), and the fill is lost.
    const ms = Math.floor(Math.min(until - Date.now(), this.ttlMs));
    if (!this.enabled || !this.redis!.available || ms <= 0) return;
    this.redis!.client!.set(this.redisKey(key), JSON.stringify({ u: until, v: value }), 'PX', ms, 'NX').catch(() => undefined);
  }

  /** Makes every instance drop `keys` (the caller has already dropped its own copies). */
  async invalidate(keys: readonly string[]): Promise<void> {
    if (!this.redis?.enabled || keys.length === 0) return;
    for (let i = 0; i < keys.length; i += BATCH) {
      const batch = keys.slice(i, i + BATCH);
      if (await this.send(batch)) continue;
      const now = Date.now();
      for (const key of batch) {
        if (this.unsent.size >= MAX_UNSENT) this.unsent.delete(this.unsent.keys().next().value!);
        this.unsent.set(key, now);
      }
    }
  }

  private async send(keys: readonly string[]): Promise<boolean> {
    const redis = this.redis!;
    if (!redis.available) return false;
    try {
      if (this.ttlMs > 0) {
        const pipeline = redis.client!.pipeline();
        for (const key of keys) pipeline.set(this.redisKey(key), TOMBSTONE, 'PX', this.ttlMs);
        const results = (await pipeline.exec()) ?? [];
        if (results.some(([error]) => error)) return false;
      }
      return await redis.publish(this.channel, [redis.instanceId, ...keys].join(' '));
    } catch {
      return false;
    }
  }

  private async sendUnsent(): Promise<void> {
    if (this.unsent.size === 0) return;
    const since = Date.now() - this.ttlMs;
    const keys = [...this.unsent].filter(([, at]) => at > since).map(([key]) => key);
    this.unsent.clear();
    if (keys.length === 0) return;
    this.logger.log(`${this.name}: sending ${keys.length} invalidations made while Redis was unavailable`);
    await this.invalidate(keys);
  }

  private redisKey(key: string): string {
    return this.redis!.key(`cache:${this.name}:${key}`);
  }
}
