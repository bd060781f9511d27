/**
 * A `CacheStore` in front of the real one that tells an observer whether
 * each read hit, missed or failed, by the kind of entry the key names (the
 * cached layer's key layout, `storage/cached/cache-keys.ts`). It sits at the
 * seam between the cached layer and its store, so the layer itself knows
 * nothing of metrics. Writes pass through untouched.
 */
import type {
  CacheKey,
  CacheStore,
  CasToken,
  CounterOptions,
  DeleteOptions,
  LeaseOptions,
  LeaseResult,
  SetOptions,
  ValueWithCas,
} from '@syncstorage-ts/memcache';

export type CacheOutcome = 'hit' | 'miss' | 'error';

export interface CacheObserver {
  cacheRead(kind: string, outcome: CacheOutcome): void;
}

export class ObservedCacheStore implements CacheStore {
  constructor(
    private readonly inner: CacheStore,
    private readonly observer: CacheObserver,
    /** The kind of entry a key names (`metadata`, `cached`, `cache-only`, …). */
    private readonly kindOf: (key: string) => string,
  ) {}

  /** The inner store's, so the storage layer's failover check sees through this wrapper. */
  get failsOver(): boolean {
    return this.inner.failsOver === true;
  }

  async #read<R>(key: CacheKey, read: () => Promise<R>, hit: (r: R) => boolean): Promise<R> {
    const kind = this.kindOf(typeof key === 'string' ? key : key.toString('utf8'));
    let result: R;
    try {
      result = await read();
    } catch (error) {
      this.observer.cacheRead(kind, 'error');
      throw error;
    }
    this.observer.cacheRead(kind, hit(result) ? 'hit' : 'miss');
    return result;
  }

  get<T = unknown>(key: CacheKey): Promise<T | undefined> {
    return this.#read(
      key,
      () => this.inner.get<T>(key),
      (r) => r !== undefined,
    );
  }

  gets<T = unknown>(key: CacheKey): Promise<ValueWithCas<T> | undefined> {
    return this.#read(
      key,
      () => this.inner.gets<T>(key),
      (r) => r !== undefined,
    );
  }

  async getMulti<T = unknown>(keys: readonly CacheKey[]): Promise<Array<T | undefined>> {
    const kinds = keys.map((key) => this.kindOf(typeof key === 'string' ? key : key.toString()));
    let values: Array<T | undefined>;
    try {
      values = await this.inner.getMulti<T>(keys);
    } catch (error) {
      for (const kind of kinds) this.observer.cacheRead(kind, 'error');
      throw error;
    }
    values.forEach((value, i) =>
      this.observer.cacheRead(kinds[i]!, value === undefined ? 'miss' : 'hit'),
    );
    return values;
  }

  getAndTouch<T = unknown>(key: CacheKey, ttl: number): Promise<T | undefined> {
    return this.#read(
      key,
      () => this.inner.getAndTouch<T>(key, ttl),
      (r) => r !== undefined,
    );
  }

  lease<T = unknown>(key: CacheKey, options: LeaseOptions): Promise<LeaseResult<T>> {
    return this.#read(
      key,
      () => this.inner.lease<T>(key, options),
      (r) => r.value !== undefined && !r.stale,
    );
  }

  set(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.inner.set(key, value, options);
  }
  add(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.inner.add(key, value, options);
  }
  replace(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.inner.replace(key, value, options);
  }
  append(key: CacheKey, data: string | Buffer): Promise<boolean> {
    return this.inner.append(key, data);
  }
  prepend(key: CacheKey, data: string | Buffer): Promise<boolean> {
    return this.inner.prepend(key, data);
  }
  cas(key: CacheKey, value: unknown, cas: CasToken, options?: SetOptions): Promise<boolean> {
    return this.inner.cas(key, value, cas, options);
  }
  delete(key: CacheKey, options?: DeleteOptions): Promise<boolean> {
    return this.inner.delete(key, options);
  }
  incr(key: CacheKey, delta?: number, options?: CounterOptions): Promise<number | undefined> {
    return this.inner.incr(key, delta, options);
  }
  decr(key: CacheKey, delta?: number, options?: CounterOptions): Promise<number | undefined> {
    return this.inner.decr(key, delta, options);
  }
  touch(key: CacheKey, ttl: number): Promise<boolean> {
    return this.inner.touch(key, ttl);
  }
  invalidate(key: CacheKey, ttl: number): Promise<boolean> {
    return this.inner.invalidate(key, ttl);
  }
  flush(delay?: number): Promise<void> {
    return this.inner.flush(delay);
  }
  stats(): Promise<Record<string, Record<string, string>>> {
    return this.inner.stats();
  }
  version(): Promise<Record<string, string>> {
    return this.inner.version();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
