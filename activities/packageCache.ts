/**
 * A memory cache bounded in bytes, least recently used first out. Network packages are keyed by their source
 * (a URL and its pin, a ConfigMap's resourceVersion), which anyone who edits SymbolNodes can vary at will: an
 * unbounded map would grow by a package per distinct key for the life of the process.
 */
export class BoundedCache<T> {
  // Map iteration order is insertion order: re-inserting on every hit keeps the least recently used first.
  private readonly entries = new Map<string, { value: Promise<T>; bytes?: number }>();
  private total = 0;

  constructor(
    readonly maxBytes: number,
    private readonly sizeOf: (value: T) => number,
  ) {}

  /** Bytes held by settled entries; a load in flight counts once it is done. */
  get bytes(): number {
    return this.total;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The cached value, or `load()`'s, shared by concurrent callers. A failed load is not kept (the next call tries
   * again); a value larger than the whole bound is returned but not kept.
   */
  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const entry: { value: Promise<T>; bytes?: number } = { value: load() };
    this.entries.set(key, entry);
    entry.value.then(
      (value) => {
        if (this.entries.get(key) !== entry) return;
        const bytes = this.sizeOf(value);
        if (bytes > this.maxBytes) {
          this.entries.delete(key);
          return;
        }
        entry.bytes = bytes;
        this.total += bytes;
        this.evict();
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.value;
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.total <= this.maxBytes) return;
      // Loads in flight have no size yet and are wanted right now.
      if (entry.bytes === undefined) continue;
      this.entries.delete(key);
      this.total -= entry.bytes;
    }
  }
}
