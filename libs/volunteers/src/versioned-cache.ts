/** A value read from the database as of a version of its source. */
export interface Versioned<T> {
  version: bigint;
  value: T;
}

/**
 * Values per key (an organisation), each stored under the version of its source it
 * was read at, and served only to a request that has just read that same version:
 * the source's writers bump the version in their own transaction, so a request never
 * sees facts older than what it could read itself. At most `capacity` keys are kept
 * (least recently used out first). Concurrent misses for one key share one load.
 */
export class VersionedCache<T> {
  private readonly entries = new Map<string, Versioned<T>>();
  /** Loads running, each with the version its request had read: the load's own snapshot reads that or newer. */
  private readonly loading = new Map<string, { asked: bigint; done: Promise<Versioned<T>> }>();

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error('a cache keeps at least one entry');
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The value for `key` at `version` or newer. `load` must read the version and the
   * value in one snapshot (REPEATABLE READ), the version first, and return both.
   */
  async get(key: string, version: bigint, load: () => Promise<Versioned<T>>): Promise<Versioned<T>> {
    const cached = this.entries.get(key);
    if (cached && cached.version >= version) return this.touch(key, cached);
    const pending = this.loading.get(key);
    if (pending && pending.asked >= version) return pending.done;
    return this.reload(key, version, load);
  }

  private async reload(key: string, asked: bigint, load: () => Promise<Versioned<T>>): Promise<Versioned<T>> {
    const pending = { asked, done: load() };
    this.loading.set(key, pending);
    try {
      const loaded = await pending.done;
      const current = this.entries.get(key);
      // Two loads of one key may finish out of order: the newer version stays.
      if (current && current.version > loaded.version) return loaded;
      return this.touch(key, loaded);
    } finally {
      if (this.loading.get(key) === pending) this.loading.delete(key);
    }
  }

  private touch(key: string, entry: Versioned<T>): Versioned<T> {
    this.entries.delete(key);
    this.entries.set(key, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(oldest);
    }
    return entry;
  }
}
