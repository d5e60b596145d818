/**
 * A bounded least-recently-used map whose entries may carry an expiry time. Map keeps insertion
 * order, so re-inserting on read moves an entry to the young end and the first key is always
 * the oldest: eviction and lookup are O(1) without a linked list.
 */
export class ExpiringLru<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError('cache size must be a non-negative integer');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, unless absent or expired (an expired entry is dropped on the way). */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (this.now() >= entry.expiresAt) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** `expiresAt` in the clock's unit (ms); omit for an entry that only LRU pressure removes. */
  set(key: string, value: V, expiresAt = Number.POSITIVE_INFINITY): void {
    if (this.maxEntries === 0 || this.now() >= expiresAt) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
