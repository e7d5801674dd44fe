/** What one hit on a fixed-window counter answers (milliseconds). */
export interface HitResult {
  hits: number;
  /** Until the window ends. */
  ttlMs: number;
  blocked: boolean;
  /** Until a blocked caller may try again; 0 when not blocked. */
  retryMs: number;
}

export interface FailureResult {
  failures: number;
  /** How long further attempts are refused; 0 below the threshold. */
  delayMs: number;
}

/** The delay after the `failures`-th failure: 1 s at the threshold, doubling, capped. */
export function failureDelayMs(failures: number, threshold: number, maxDelayMs: number): number {
  const over = failures - threshold;
  if (over < 0) return 0;
  return Math.min(1000 * 2 ** Math.min(over, 40), maxDelayMs);
}

interface Entry {
  value: number;
  expiresAt: number;
}

/**
 * The counters of one instance, used without Redis and while Redis is unreachable. Same
 * semantics as the Lua scripts in `RateLimitStorage`. Bounded: expired entries are swept every
 * minute, and beyond `maxEntries` the oldest are dropped (a flood of distinct usernames or
 * addresses cannot grow memory without limit; dropping can only forget a counter early).
 */
export class MemoryCounters {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly maxEntries = 200_000,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  hit(key: string, ttlMs: number, limit: number, blockMs: number): HitResult {
    const blockedFor = this.remaining(`${key}:block`);
    if (blockedFor > 0) return { hits: this.get(key)?.value ?? 0, ttlMs: this.remaining(key), blocked: true, retryMs: blockedFor };
    const entry = this.get(key) ?? this.set(key, 0, ttlMs);
    entry.value++;
    const ttl = entry.expiresAt - this.now();
    if (entry.value <= limit) return { hits: entry.value, ttlMs: ttl, blocked: false, retryMs: 0 };
    if (blockMs > 0) {
      this.set(`${key}:block`, 1, blockMs);
      this.entries.delete(key);
      return { hits: entry.value, ttlMs: ttl, blocked: true, retryMs: blockMs };
    }
    return { hits: entry.value, ttlMs: ttl, blocked: true, retryMs: ttl };
  }

  /** Milliseconds until `key` expires; 0 when absent. */
  remaining(key: string): number {
    const entry = this.get(key);
    return entry ? entry.expiresAt - this.now() : 0;
  }

  fail(failuresKey: string, lockKey: string, windowMs: number, threshold: number, maxDelayMs: number): FailureResult {
    const failures = (this.get(failuresKey)?.value ?? 0) + 1;
    this.set(failuresKey, failures, windowMs); // sliding: the window restarts at every failure
    const delayMs = failureDelayMs(failures, threshold, maxDelayMs);
    if (delayMs > 0) this.set(lockKey, 1, delayMs);
    return { failures, delayMs };
  }

  delete(...keys: string[]): void {
    for (const key of keys) this.entries.delete(key);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  private get(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private set(key: string, value: number, ttlMs: number): Entry {
    const entry = { value, expiresAt: this.now() + ttlMs };
    this.entries.delete(key); // re-insert: Map order is then "least recently written first"
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) {
      for (const oldest of this.entries.keys()) {
        this.entries.delete(oldest);
        if (this.entries.size <= this.maxEntries) break;
      }
    }
    return entry;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
