/** Hit and miss counts of one cache since the process started. */
export interface CacheCounts {
  hits: number;
  misses: number;
}

/**
 * Every named cache of this process registers its counters here (e.g. `user-state`,
 * `api-key-lookup`, `deploy-token-lookup`, `offline-token-exchange`); `/metrics` reads them on
 * scrape. Counting is two integer increments on the hot path, nothing else.
 */
export class CacheStats {
  private static readonly counters = new Map<string, CacheCounts>();

  /** The counters of `name` (one object per name and process: instances of a cache share it). */
  static for(name: string): CacheCounts {
    let counts = CacheStats.counters.get(name);
    if (!counts) {
      counts = { hits: 0, misses: 0 };
      CacheStats.counters.set(name, counts);
    }
    return counts;
  }

  static snapshot(): ReadonlyMap<string, Readonly<CacheCounts>> {
    return CacheStats.counters;
  }
}
