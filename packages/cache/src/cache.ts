/**
 * `Cache`: the toolkit's front door, built only on the `CacheStore`
 * interface, so it works the same over memcached and the in-process store.
 *
 * - keys: any JSON-able value, hashed with the version, namespace and
 *   generations (`key-builder.ts`); `raw: true` for verbatim string keys;
 * - invalidation: one key, a namespace or everything (generation bumps,
 *   O(1)), groups (O(1)), dependencies (per namespace, CAS-safe);
 * - `getOrSet` with in-process and cross-process stampede protection
 *   (`stampede.ts`); key tracking (`key-tracker.ts`); statistics;
 * - degraded mode: store outages never throw at the caller (`degraded-mode.ts`).
 */
import type { CacheStore } from '@syncstorage-ts/memcache';
import { CacheOptionError, KeyTrackingDisabledError } from './cache-errors.js';
import {
  resolveCacheOptions,
  type CacheOptions,
  type ResolvedCacheOptions,
} from './cache-options.js';
import type { Invalidatable } from './cache-registry.js';
import { emptyCounters, type CacheCounters, type CacheStatistics } from './cache-stats.js';
import { decodeKey } from './canonical-key.js';
import { StoreGuard } from './degraded-mode.js';
import { DependencyIndex, type DependentEntry } from './dependencies.js';
import { GenerationCache } from './generations.js';
import {
  checkGroup,
  KeyResolver,
  type KeyOptions,
  type NamespaceOption,
  type Resolution,
  type ResolvedKey,
} from './key-resolver.js';
import { KeyTracker, trackedIdentity, type TrackedEntry } from './key-tracker.js';
import { checkLifetime, expiresAt, storeTtl } from './lifetime.js';
import { StampedeProtection, type Loader } from './stampede.js';

export interface WriteOptions extends KeyOptions {
  /** Seconds; 0 = never expires. Default: the cache's `lifetime`. */
  lifetime?: number;
  /** Values whose invalidation removes this entry (`invalidateDependencies`). */
  dependencies?: readonly unknown[];
}

export interface GetOrSetOptions extends WriteOptions {
  /** Overrides the cache's `grace` for this call. */
  grace?: number;
  /** Overrides the cache's XFetch `beta` for this call. */
  beta?: number;
}

export interface InvalidateOptions extends KeyOptions {
  /**
   * Mark the entry stale (`md … I`) instead of deleting it: `getOrSet`
   * callers keep getting the old value for the grace window while one of
   * them recomputes. Plain `get` still returns it meanwhile.
   */
  stale?: boolean;
}

/** What getOrSet's write-back needs for its bookkeeping. */
interface WriteContext {
  resolved: ResolvedKey;
  lifetime: number;
  dependencies: readonly unknown[];
}

export type { KeyOptions, NamespaceOption } from './key-resolver.js';

export class Cache implements Invalidatable {
  readonly options: ResolvedCacheOptions;
  private readonly store: CacheStore;
  private readonly counters: CacheCounters = emptyCounters();
  private readonly guard: StoreGuard;
  private readonly generations: GenerationCache;
  private readonly dependencies: DependencyIndex;
  private readonly tracker: KeyTracker;
  private readonly stampede: StampedeProtection<WriteContext>;
  private readonly resolver: KeyResolver;

  constructor(options: CacheOptions) {
    this.options = resolveCacheOptions(options);
    const { store, clock, version } = this.options;
    this.store = store;
    this.guard = new StoreGuard(this.options.logger, this.counters, this.options.name, clock);
    this.generations = options.generations ?? GenerationCache.forStore(store);
    this.dependencies = new DependencyIndex(store, version, clock);
    this.tracker = new KeyTracker(store, this.options.maxTrackedKeys, clock);
    this.stampede = new StampedeProtection(
      store,
      this.guard,
      this.counters,
      clock,
      this.options.random,
      (context) => this.afterWrite(context.resolved, context.lifetime, context.dependencies),
    );
    this.resolver = new KeyResolver(this.options, this.generations, this.guard);
  }

  /** Seconds an entry lives by default (3600 unless configured). */
  get defaultLifetime(): number {
    return this.options.lifetime;
  }

  /** True while the store is unreachable (between the outage's first failure and the next success). */
  get degraded(): boolean {
    return this.guard.degraded;
  }

  /** The value, `null` if `null` was stored, `undefined` on a miss (or while degraded). */
  get<T = unknown>(key: unknown, options: KeyOptions = {}): Promise<T | undefined> {
    // Not an async function: on the hot path (generations cached) this costs
    // one promise, the store's, plus the guard's.
    let resolution: Resolution;
    try {
      resolution = this.resolver.resolve(key, options);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (resolution instanceof Promise) {
      return resolution.then((resolved) => (resolved ? this.read<T>(resolved) : this.miss()));
    }
    return this.read<T>(resolution);
  }

  private read<T>(resolved: ResolvedKey): Promise<T | undefined> {
    // The guard's work inlined into one `then`: this is the hottest path.
    let pending: Promise<T | undefined>;
    try {
      pending = this.store.get<T>(resolved.storeKey);
    } catch (err) {
      pending = Promise.reject(err as Error);
    }
    return pending.then(this.onRead, this.onReadError) as Promise<T | undefined>;
  }

  // Created once: a closure per read showed up in profiles.
  private readonly onRead = (value: unknown): unknown => {
    this.guard.succeeded();
    this.count(value);
    return value;
  };

  private readonly onReadError = (err: unknown): undefined => {
    this.guard.absorb(err);
    return this.miss();
  };

  private miss(): undefined {
    this.counters.misses++;
    return undefined;
  }

  /** Values of many keys (aligned with `keys`) in one `getMulti`. */
  async getMany<T = unknown>(
    keys: readonly unknown[],
    options: KeyOptions = {},
  ): Promise<Array<T | undefined>> {
    const resolved = await Promise.all(keys.map((key) => this.resolver.resolve(key, options)));
    if (resolved.some((r) => r === undefined)) {
      this.counters.misses += keys.length;
      return keys.map(() => undefined);
    }
    const storeKeys = resolved.map((r) => (r as ResolvedKey).storeKey);
    const values = await this.guard.run(
      () => this.store.getMulti<T>(storeKeys),
      storeKeys.map(() => undefined),
    );
    values.forEach((value) => this.count(value));
    return values;
  }

  /** Store a value. Resolves false if it was not stored (e.g. the store is down). */
  set(key: unknown, value: unknown, options: WriteOptions = {}): Promise<boolean> {
    return this.write('set', key, value, options);
  }

  /** Store only if absent. Resolves false if the key exists or nothing was stored. */
  add(key: unknown, value: unknown, options: WriteOptions = {}): Promise<boolean> {
    return this.write('add', key, value, options);
  }

  /**
   * The cached value, or the loader's (cached for `lifetime`), with stampede
   * protection (see `stampede.ts`). Never throws for store outages; rethrows
   * the loader's error when there is no stale value to serve.
   */
  getOrSet<T>(key: unknown, loader: Loader<T>, options: GetOrSetOptions = {}): Promise<T> {
    // Not async: a hit whose key resolves synchronously (the memoised path)
    // goes straight to the stampede protection's promise, without another
    // promise and its microtasks around it.
    try {
      const lifetime = checkLifetime(options.lifetime ?? this.options.lifetime);
      const grace = options.grace ?? this.options.grace;
      if (!Number.isInteger(grace) || grace < 1) {
        throw new CacheOptionError(`grace must be a positive integer, got ${String(grace)}`);
      }
      const resolution = this.resolver.resolve(key, options);
      if (resolution instanceof Promise) {
        return resolution.then((resolved) =>
          this.getOrSetResolved(resolved, loader, options, lifetime, grace),
        );
      }
      return this.getOrSetResolved(resolution, loader, options, lifetime, grace);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private getOrSetResolved<T>(
    resolved: ResolvedKey | undefined,
    loader: Loader<T>,
    options: GetOrSetOptions,
    lifetime: number,
    grace: number,
  ): Promise<T> {
    if (!resolved) {
      this.counters.misses++;
      this.counters.loaderCalls++;
      return Promise.resolve().then(loader);
    }
    const life = lifetime === 0 ? 0 : lifetime + grace;
    return this.stampede.getOrSet<T>({
      storeKey: resolved.storeKey,
      loader,
      ttl: storeTtl(life, this.options.clock()),
      grace,
      beta: options.beta ?? this.options.beta,
      context: { resolved, lifetime: life, dependencies: options.dependencies ?? [] },
    });
  }

  /** Remove one entry (or mark it stale). Resolves whether an entry was there. */
  async invalidate(key: unknown, options: InvalidateOptions = {}): Promise<boolean> {
    this.counters.invalidations++;
    const resolved = await this.resolver.resolve(key, options);
    if (!resolved) return false;
    const removed = await this.guard.run(
      () =>
        options.stale
          ? this.store.invalidate(resolved.storeKey, this.options.grace)
          : this.store.delete(resolved.storeKey),
      false,
    );
    if (this.options.trackKeys) await this.untrack(resolved.namespace, [trackedEntry(resolved, 0)]);
    return removed;
  }

  /**
   * O(1): without a namespace, every hashed entry of this version in every
   * namespace; with `{ namespace }`, that namespace only. Raw keys are not
   * affected (they are addressed verbatim). Does not flush the server.
   */
  async invalidateAll(options: NamespaceOption = {}): Promise<void> {
    this.counters.invalidations++;
    const key =
      'namespace' in options
        ? this.resolver.namespaceGenerationKey(options.namespace ?? null)
        : this.resolver.rootGenerationKey;
    await this.guard.run(() => this.generations.bump(key), 0);
  }

  /** O(1): every entry set with this group (in the namespace) becomes unreachable. */
  async invalidateGroup(group: string, options: NamespaceOption = {}): Promise<void> {
    this.counters.invalidations++;
    const key = this.resolver.groupGenerationKey(
      this.resolver.namespaceOf(options),
      checkGroup(group),
    );
    await this.guard.run(() => this.generations.bump(key), 0);
  }

  /** Remove every entry of the namespace that named one of `dependencies`. */
  async invalidateDependencies(
    dependencies: readonly unknown[],
    options: NamespaceOption = {},
  ): Promise<void> {
    this.counters.invalidations++;
    const namespace = this.resolver.namespaceOf(options);
    const removed = await this.guard.run(
      () => this.dependencies.invalidate(namespace, dependencies),
      [] as DependentEntry[],
    );
    // Seed bug: entries removed by dependency stayed in the tracked keys.
    const tracked = removed.filter((entry) => entry.t === 1);
    if (tracked.length > 0) await this.untrack(namespace, tracked);
  }

  /** Store keys currently listed under a dependency (for inspection and tests). */
  async dependents(dependency: unknown, options: NamespaceOption = {}): Promise<string[]> {
    const namespace = this.resolver.namespaceOf(options);
    return this.guard.run(() => this.dependencies.dependents(namespace, dependency), []);
  }

  /**
   * Live keys of a namespace (default: the cache's), set through any process
   * sharing the store. Requires `trackKeys`. Cost: one `getMulti` of the two
   * tracking records (hashed and raw keys) + one `getMulti` of at most
   * 2 × `maxTrackedKeys` entry keys.
   */
  async keys(namespace: string | null = this.options.namespace): Promise<unknown[]> {
    if (!this.options.trackKeys) throw new KeyTrackingDisabledError();
    const recordKey = await this.resolver.trackerKey(namespace, false);
    if (!recordKey) return [];
    const recordKeys = [recordKey, this.resolver.rawTrackerKey(namespace)];
    const entries = await this.guard.run(() => this.tracker.list(recordKeys), []);
    const resolved = await Promise.all(
      entries.map((entry) =>
        this.resolver.resolveId(entry.k, entry.r === 1, namespace, entry.g ?? []),
      ),
    );
    const live = resolved.filter((r): r is ResolvedKey => r !== undefined);
    if (live.length !== entries.length) return [];
    const values = await this.guard.run(() => this.store.getMulti(live.map((r) => r.storeKey)), []);
    return entries
      .filter((_, i) => values[i] !== undefined)
      .map((entry) => (entry.r === 1 ? entry.k : decodeKey(entry.k)));
  }

  /** The key the store sees for `key` (what the seed's `set` returned); undefined while degraded. */
  async storeKey(key: unknown, options: KeyOptions = {}): Promise<string | undefined> {
    return (await this.resolver.resolve(key, options))?.storeKey;
  }

  /** Per-server store statistics and this cache's counters. */
  async stats(): Promise<CacheStatistics> {
    const servers = await this.guard.run(() => this.store.stats(), {});
    return { servers, counters: { ...this.counters } };
  }

  /** Empty the whole store (every namespace, version and raw key): the seed's `clear`. */
  async flush(): Promise<boolean> {
    this.generations.clear();
    return this.guard.run(async () => {
      await this.store.flush();
      return true;
    }, false);
  }

  private async write(
    mode: 'set' | 'add',
    key: unknown,
    value: unknown,
    options: WriteOptions,
  ): Promise<boolean> {
    if (value === undefined) {
      throw new CacheOptionError('undefined cannot be cached (it reads as a miss); store null');
    }
    const lifetime = checkLifetime(options.lifetime ?? this.options.lifetime);
    const resolved = await this.resolver.resolve(key, options);
    if (!resolved) return false;
    const ttl = storeTtl(lifetime, this.options.clock());
    const stored = await this.guard.run(
      () =>
        mode === 'set'
          ? this.store.set(resolved.storeKey, value, { ttl })
          : this.store.add(resolved.storeKey, value, { ttl }),
      false,
    );
    if (!stored) return false;
    this.counters.sets++;
    return this.afterWrite(resolved, lifetime, options.dependencies ?? []);
  }

  /** Dependency lists and key tracking, after the entry itself is stored. */
  private async afterWrite(
    resolved: ResolvedKey,
    lifetime: number,
    dependencies: readonly unknown[],
  ): Promise<boolean> {
    const expiry = expiresAt(lifetime, this.options.clock());
    const tracked = trackedEntry(resolved, expiry);
    if (dependencies.length > 0) {
      // The entry is written first: an invalidation racing this set then
      // either finds it listed or ran before it (a valid order). The reverse
      // order could leave an entry no dependency can reach.
      const entry: DependentEntry = { ...tracked, s: resolved.storeKey };
      if (this.options.trackKeys) entry.t = 1;
      const listed = await this.guard.run(
        () => this.dependencies.add(resolved.namespace, dependencies, entry),
        false,
      );
      if (!listed) {
        await this.guard.run(() => this.store.delete(resolved.storeKey), false);
        return false;
      }
    }
    if (this.options.trackKeys) {
      const recordKey = await this.resolver.trackerKey(resolved.namespace, resolved.raw);
      if (recordKey) await this.guard.run(() => this.tracker.track(recordKey, tracked), false);
    }
    return true;
  }

  private async untrack(
    namespace: string | null,
    entries: ReadonlyArray<Pick<TrackedEntry, 'k' | 'r' | 'g'>>,
  ): Promise<void> {
    for (const raw of [false, true]) {
      const some = entries.filter((entry) => (entry.r === 1) === raw);
      if (some.length === 0) continue;
      const recordKey = await this.resolver.trackerKey(namespace, raw);
      if (!recordKey) return;
      const identities = new Set(some.map(trackedIdentity));
      await this.guard.run(() => this.tracker.untrack(recordKey, identities), false);
    }
  }

  private count(value: unknown): void {
    if (value === undefined) this.counters.misses++;
    else this.counters.hits++;
  }
}

function trackedEntry(resolved: ResolvedKey, expiry: number): TrackedEntry {
  const entry: TrackedEntry = { k: resolved.id, e: expiry };
  if (resolved.raw) entry.r = 1;
  if (resolved.groups.length > 0) entry.g = resolved.groups;
  return entry;
}
