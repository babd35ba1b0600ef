/**
 * A short-lived in-process cache in front of Redis for the product detail's hot path (issue 15): a hit
 * costs a Map lookup instead of a Redis round trip. Staleness is bounded by `ttlMs`: this process's
 * own writes delete the entry at once (evictProduct); anything else that changes what Redis holds
 * (the collector's evictions, another API replica's writes, ranking updates) shows within ttlMs.
 * Entries are few and small (one per product read in the last ttlMs), capped at `max`, the oldest
 * dropped first. ttlMs 0 turns it off.
 */
export class LocalCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > performance.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: performance.now() + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
