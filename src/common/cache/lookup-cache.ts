import { TtlCache } from './ttl-cache';

/**
 * Caches lookups of stored credentials by secret hash, both "found" and "no such credential",
 * for `ttlMs`. Misses live in a smaller cache of their own, so a flood of made-up secrets cannot
 * evict the entries of real ones.
 */
export class LookupCache<V> {
  private readonly hits: TtlCache<V>;
  private readonly misses: TtlCache<true>;

  constructor(ttlMs: number, maxHits: number, maxMisses: number) {
    this.hits = new TtlCache(ttlMs, maxHits);
    this.misses = new TtlCache(ttlMs, maxMisses);
  }

  /** The cached answer for `hash`, or `load()`'s, which is then cached. */
  async get(hash: string, load: () => Promise<V | null>): Promise<V | null> {
    const hit = this.hits.get(hash);
    if (hit !== undefined) return hit;
    if (this.misses.get(hash)) return null;
    const value = await load();
    if (value === null) this.misses.set(hash, true);
    else this.hits.set(hash, value);
    return value;
  }

  /** Drops what is cached for `hash` (after a revocation, rotation or rename). */
  forget(hash: string): void {
    this.hits.delete(hash);
    this.misses.delete(hash);
  }
}
