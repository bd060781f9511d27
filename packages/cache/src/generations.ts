/**
 * Generation counters: the O(1) invalidation behind `invalidateAll`,
 * namespaces and groups. A generation is a number stored under its own key
 * and mixed into every entry key that depends on it; `bump` increments it,
 * and every entry built with the old number is unreachable at once.
 *
 * Seed bugs avoided: the seed created its group key with a plain `set`
 * after a miss (two processes racing each got their own group, and half the
 * entries vanished) and let it expire with the default timeout (the whole
 * group silently invalidated). Here a counter is created with `incr` +
 * `initial`, which is atomic on the server (meta `ma … N0 J<initial>`): all
 * racers read the one number that won, and TTL 0 means it never expires. A
 * counter evicted by the LRU comes back with a new random start, so entries
 * of the old generation do not come back with it.
 *
 * Reading the counters costs a round trip per entry read, so they are cached
 * in-process for `maxAgeMs` (the cache option `generationCacheMs`). The
 * trade-off, documented on that option: an invalidation made by ANOTHER
 * process is seen here up to `maxAgeMs` late. Caches that share one store
 * object in one process share one `GenerationCache` (`forStore`), so their
 * own invalidations are seen by each other at once.
 */
import { randomInt } from 'node:crypto';
import type { CacheStore } from '@syncstorage-ts/memcache';

interface Entry {
  value: number;
  fetchedAt: number;
}

const MAX_ENTRIES = 10_000;
const shared = new WeakMap<CacheStore, GenerationCache>();

export class GenerationCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<number>>();

  /** The one cache of this store object in this process. */
  static forStore(store: CacheStore): GenerationCache {
    let cache = shared.get(store);
    if (!cache) {
      cache = new GenerationCache(store);
      shared.set(store, cache);
    }
    return cache;
  }

  constructor(
    private readonly store: CacheStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** The generations from memory, synchronously, if all are younger than `maxAgeMs`. */
  peek(keys: readonly string[], maxAgeMs: number): number[] | undefined {
    const now = this.now();
    const values: number[] = [];
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (!entry || now - entry.fetchedAt >= maxAgeMs) return undefined;
      values.push(entry.value);
    }
    return values;
  }

  /** Current generations of `keys` (aligned), from memory when younger than `maxAgeMs`. */
  async read(keys: readonly string[], maxAgeMs: number): Promise<number[]> {
    const now = this.now();
    const result: Array<number | Promise<number>> = new Array<number>(keys.length);
    const missing: number[] = [];
    keys.forEach((key, i) => {
      const entry = this.entries.get(key);
      if (entry && now - entry.fetchedAt < maxAgeMs) result[i] = entry.value;
      else result[i] = this.inflight.get(key) ?? (missing.push(i), 0);
    });
    if (missing.length > 0) {
      // One getMulti for every counter this call lacks; concurrent callers share it.
      const batch = this.fetch(missing.map((i) => keys[i] as string));
      missing.forEach((index, j) => {
        const key = keys[index] as string;
        const one = batch.then((values) => values[j] as number);
        this.inflight.set(key, one);
        one.then(
          () => this.inflight.delete(key),
          () => this.inflight.delete(key),
        );
        result[index] = one;
      });
    }
    return Promise.all(result);
  }

  /** Increment (or create) the counter; every entry built on the old value is gone. */
  async bump(key: string): Promise<number> {
    const value = await this.store.incr(key, 1, { initial: randomStart(), ttl: 0 });
    if (value === undefined) throw new Error('incr with initial returned undefined');
    this.remember(key, value);
    return value;
  }

  /** Forget everything cached in-process (after `flush`). */
  clear(): void {
    this.entries.clear();
  }

  private async fetch(keys: string[]): Promise<number[]> {
    const stored = await this.store.getMulti(keys);
    return Promise.all(
      keys.map(async (key, i) => {
        let value = parseGeneration(stored[i]);
        if (value === undefined) value = await this.create(key);
        this.remember(key, value);
        return value;
      }),
    );
  }

  private async create(key: string): Promise<number> {
    // incr with delta 0 and an initial value is an atomic "add or read".
    const value = await this.store.incr(key, 0, { initial: randomStart(), ttl: 0 });
    if (value !== undefined) return value;
    throw new Error('incr with initial returned undefined');
  }

  private remember(key: string, value: number): void {
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, fetchedAt: this.now() });
  }
}

function randomStart(): number {
  return randomInt(0, 2 ** 47);
}

function parseGeneration(raw: unknown): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  const text = Buffer.isBuffer(raw) ? raw.toString() : String(raw);
  const value = Number(text.trim());
  return Number.isSafeInteger(value) ? value : undefined;
}
