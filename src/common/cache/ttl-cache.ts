/**
 * A small in-process cache: entries expire after `ttlMs`, and past `maxEntries` the oldest
 * entry is dropped first. Used for credential lookups, where a stale entry must never outlive
 * the configured TTL.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.until > Date.now()) return hit.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Caches `value` for the TTL, or until `until` (ms since epoch) when that comes first. */
  set(key: string, value: V, until?: number): void {
    if (this.ttlMs <= 0) return;
    const expiry = Math.min(Date.now() + this.ttlMs, until ?? Infinity);
    this.entries.delete(key);
    if (expiry <= Date.now()) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: expiry });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
