import type { RedisService } from '../redis/redis.service';
import type { MaybePromise } from '../maybe-async';
import { CacheCounts, CacheStats } from './cache-stats';
import { SharedTier } from './shared-tier';
import { TtlCache } from './ttl-cache';

export interface LookupCacheOptions {
  /** Metrics name and Redis namespace, e.g. `api-key-lookup`. */
  readonly name: string;
  readonly ttlMs: number;
  readonly maxHits: number;
  readonly maxMisses: number;
  /** With Redis: lookups are shared between instances and `forget` reaches all of them. */
  readonly redis?: RedisService;
}

/**
 * Caches lookups of stored credentials by secret hash, both "found" and "no such credential",
 * for `ttlMs`. Misses live in a smaller cache of their own, so a flood of made-up secrets cannot
 * evict the entries of real ones.
 *
 * With Redis, found credentials are also shared (`SharedTier`): an instance that has not seen a
 * key asks Redis before the database, and `forget` (revocation, rotation, rename) drops the
 * entry on every instance at once. Misses stay per instance (a flood of made-up secrets writes
 * nothing to Redis). Whatever Redis does, an entry is trusted for at most `ttlMs` after the
 * database read behind it.
 */
export class LookupCache<V> {
  private readonly hits: TtlCache<V>;
  private readonly misses: TtlCache<true>;
  private readonly shared: SharedTier<V>;
  private readonly stats: CacheCounts;
  /** Loads in progress; a load whose key was forgotten meanwhile does not store its (old) answer. */
  private readonly loading = new Map<string, object>();
  private readonly ttlMs: number;

  constructor(options: LookupCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.hits = new TtlCache(options.ttlMs, options.maxHits);
    this.misses = new TtlCache(options.ttlMs, options.maxMisses);
    this.stats = CacheStats.for(options.name);
    this.shared = new SharedTier(options.redis, options.name, options.ttlMs, (hash) => this.drop(hash));
  }

  /**
   * The cached answer for `hash`, or `load()`'s, which is then cached. Synchronous when this
   * instance has the answer (the hot path: no promise, no microtask); a promise otherwise.
   */
  get(hash: string, load: () => Promise<V | null>): MaybePromise<V | null> {
    const hit = this.hits.get(hash);
    if (hit !== undefined) {
      this.stats.hits++;
      return hit;
    }
    if (this.misses.get(hash)) {
      this.stats.hits++;
      return null;
    }
    return this.fetch(hash, load);
  }

  private async fetch(hash: string, load: () => Promise<V | null>): Promise<V | null> {
    const flight = {};
    this.loading.set(hash, flight);
    try {
      const shared = await this.shared.read(hash);
      if (shared) {
        this.stats.hits++;
        if (this.loading.get(hash) === flight) this.hits.set(hash, shared.value, shared.until);
        return shared.value;
      }
      this.stats.misses++;
      const until = Date.now() + this.ttlMs; // fixed before the read: bounds every copy of it
      const value = await load();
      if (this.loading.get(hash) === flight) {
        if (value === null) this.misses.set(hash, true);
        else {
          this.hits.set(hash, value, until);
          this.shared.fill(hash, value, until);
        }
      }
      return value;
    } finally {
      if (this.loading.get(hash) === flight) this.loading.delete(hash);
    }
  }

  /**
   * Drops what is cached for these hashes (after a revocation, rotation or rename): here at
   * once, and with Redis on every other instance too (resolves once published; never throws).
   */
  async forget(...hashes: string[]): Promise<void> {
    for (const hash of hashes) this.drop(hash);
    await this.shared.invalidate(hashes);
  }

  private drop(hash: string): void {
    this.hits.delete(hash);
    this.misses.delete(hash);
    this.loading.delete(hash);
  }
}
