/**
 * A map bounded by entry count. When full, the oldest insertion goes first: tokens are
 * short-lived, so the oldest entry is also the one closest to its `exp`.
 * Expiry is the caller's business (it knows each entry's `exp`).
 */
export class BoundedCache<V> {
  private readonly map = new Map<string, V>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError("cache.maxEntries must be a positive integer");
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, value: V): void {
    if (this.map.size >= this.maxEntries && !this.map.has(key)) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
