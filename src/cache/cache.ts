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
import type { CacheStore } from '../memcache/cache-store.js';
import { CacheKeyError, CacheOptionError, KeyTrackingDisabledError } from './cache-errors.js';
import {
  resolveCacheOptions,
  type CacheOptions,
  type ResolvedCacheOptions,
} from './cache-options.js';
import type { Invalidatable } from './cache-registry.js';
import { emptyCounters, type CacheCounters, type CacheStatistics } from './cache-stats.js';
import { decodeKey, encodeKey } from './canonical-key.js';
import { StoreGuard } from './degraded-mode.js';
import { DependencyIndex, type DependentEntry } from './dependencies.js';
import { GenerationCache } from './generations.js';
import { hashedStoreKey, internalKey, rawStoreKey } from './key-builder.js';
import { KeyTracker, trackedIdentity, type TrackedEntry } from './key-tracker.js';
import { checkLifetime, expiresAt, storeTtl } from './lifetime.js';
import { StampedeProtection, type Loader } from './stampede.js';
import { memoSlot, StoreKeyMemo } from './store-key-memo.js';

export interface NamespaceOption {
  /** Namespace of this call; `undefined` = the cache's default, `null` = none. */
  namespace?: string | null;
}

export interface KeyOptions extends NamespaceOption {
  /** Use the string key verbatim (namespace prepended) instead of hashing it. */
  raw?: boolean;
  /** A group the entry belongs to (see `invalidateGroup`). Not for raw keys. */
  group?: string;
  /** Several groups; combined with `group`. */
  groups?: readonly string[];
}

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

/** A resolved key now, or later (generations had to be read); undefined while degraded. */
type Resolution = ResolvedKey | Promise<ResolvedKey | undefined>;

interface ResolvedKey {
  storeKey: string;
  namespace: string | null;
  /** Canonical key, or the raw key string. */
  id: string;
  raw: boolean;
  groups: string[];
}

export class Cache implements Invalidatable {
  readonly options: ResolvedCacheOptions;
  private readonly store: CacheStore;
  private readonly counters: CacheCounters = emptyCounters();
  private readonly guard: StoreGuard;
  private readonly generations: GenerationCache;
  private readonly dependencies: DependencyIndex;
  private readonly tracker: KeyTracker;
  private readonly stampede: StampedeProtection<WriteContext>;
  private readonly rootGenerationKey: string;
  private readonly namespaceKeys = new Map<string | null, string>();
  private readonly storeKeys = new StoreKeyMemo();
  private readonly groupKeys = new Map<string | null, Map<string, string>>();

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
    this.rootGenerationKey = internalKey('gen', version, 'root');
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
      resolution = this.resolve(key, options);
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
    const resolved = await Promise.all(keys.map((key) => this.resolve(key, options)));
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
  async getOrSet<T>(key: unknown, loader: Loader<T>, options: GetOrSetOptions = {}): Promise<T> {
    const lifetime = checkLifetime(options.lifetime ?? this.options.lifetime);
    const grace = options.grace ?? this.options.grace;
    if (!Number.isInteger(grace) || grace < 1) {
      throw new CacheOptionError(`grace must be a positive integer, got ${String(grace)}`);
    }
    const resolution = this.resolve(key, options);
    const resolved = resolution instanceof Promise ? await resolution : resolution;
    if (!resolved) {
      this.counters.misses++;
      this.counters.loaderCalls++;
      return loader();
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
    const resolved = await this.resolve(key, options);
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
        ? this.namespaceGenerationKey(options.namespace ?? null)
        : this.rootGenerationKey;
    await this.guard.run(() => this.generations.bump(key), 0);
  }

  /** O(1): every entry set with this group (in the namespace) becomes unreachable. */
  async invalidateGroup(group: string, options: NamespaceOption = {}): Promise<void> {
    this.counters.invalidations++;
    const key = this.groupGenerationKey(this.namespaceOf(options), checkGroup(group));
    await this.guard.run(() => this.generations.bump(key), 0);
  }

  /** Remove every entry of the namespace that named one of `dependencies`. */
  async invalidateDependencies(
    dependencies: readonly unknown[],
    options: NamespaceOption = {},
  ): Promise<void> {
    this.counters.invalidations++;
    const namespace = this.namespaceOf(options);
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
    const namespace = this.namespaceOf(options);
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
    const recordKey = await this.trackerKey(namespace, false);
    if (!recordKey) return [];
    const recordKeys = [recordKey, this.rawTrackerKey(namespace)];
    const entries = await this.guard.run(() => this.tracker.list(recordKeys), []);
    const resolved = await Promise.all(
      entries.map((entry) => this.resolveId(entry.k, entry.r === 1, namespace, entry.g ?? [])),
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
    return (await this.resolve(key, options))?.storeKey;
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
    const resolved = await this.resolve(key, options);
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
      const recordKey = await this.trackerKey(resolved.namespace, resolved.raw);
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
      const recordKey = await this.trackerKey(namespace, raw);
      if (!recordKey) return;
      const identities = new Set(some.map(trackedIdentity));
      await this.guard.run(() => this.tracker.untrack(recordKey, identities), false);
    }
  }

  /**
   * The store key of `key`. Synchronous when the generations are cached in
   * process (the hot path: no extra promise per read); `undefined` while degraded.
   */
  private resolve(key: unknown, options: KeyOptions): Resolution {
    const namespace = this.namespaceOf(options);
    const groups = groupsOf(options);
    if (options.raw) {
      if (groups.length > 0) throw new CacheKeyError('groups need hashed keys, not raw ones');
      // rawStoreKey refuses a non-string key with a CacheKeyError.
      const storeKey = rawStoreKey(key, namespace);
      return { storeKey, namespace, id: key as string, raw: true, groups };
    }
    return this.resolveId(encodeKey(key), false, namespace, groups);
  }

  private resolveId(
    id: string,
    raw: boolean,
    namespace: string | null,
    groups: string[],
  ): Resolution {
    if (raw) return { storeKey: rawStoreKey(id, namespace), namespace, id, raw, groups: [] };
    const generationKeys = [this.rootGenerationKey, this.namespaceGenerationKey(namespace)];
    for (const group of groups) generationKeys.push(this.groupGenerationKey(namespace, group));
    const cached = this.generations.peek(generationKeys, this.options.generationCacheMs);
    if (cached) return this.hashed(id, namespace, groups, cached);
    return this.readGenerations(generationKeys).then(
      (generations) => generations && this.hashed(id, namespace, groups, generations),
    );
  }

  private hashed(
    id: string,
    namespace: string | null,
    groups: string[],
    generations: number[],
  ): ResolvedKey {
    const rootGeneration = generations[0] ?? 0;
    const namespaceGeneration = generations[1] ?? 0;
    const slot = memoSlot(id, groups);
    let storeKey = this.storeKeys.get(namespace, slot, generations);
    if (storeKey === undefined) {
      storeKey = hashedStoreKey({
        version: this.options.version,
        rootGeneration,
        namespace,
        namespaceGeneration,
        groups: groups.map((group, i) => [group, generations[i + 2] ?? 0] as const),
        key: id,
      });
      this.storeKeys.set(namespace, slot, generations, storeKey);
    }
    return { storeKey, namespace, id, raw: false, groups };
  }

  private readGenerations(keys: string[]): Promise<number[] | undefined> {
    return this.guard.run<number[] | undefined>(
      () => this.generations.read(keys, this.options.generationCacheMs),
      undefined,
    );
  }

  /**
   * The tracking record of a namespace's hashed keys changes with the
   * generations, so invalidateAll empties it in O(1); raw keys live outside
   * the generations and keep a record of their own.
   */
  private async trackerKey(namespace: string | null, raw: boolean): Promise<string | undefined> {
    if (raw) return this.rawTrackerKey(namespace);
    const generations = await this.readGenerations([
      this.rootGenerationKey,
      this.namespaceGenerationKey(namespace),
    ]);
    return generations && internalKey('track', this.options.version, namespace, ...generations);
  }

  private rawTrackerKey(namespace: string | null): string {
    return internalKey('track', this.options.version, namespace, 'raw');
  }

  private namespaceGenerationKey(namespace: string | null): string {
    let key = this.namespaceKeys.get(namespace);
    if (key === undefined) {
      if (this.namespaceKeys.size >= 1000) this.namespaceKeys.clear();
      key = internalKey('gen', this.options.version, 'ns', namespace);
      this.namespaceKeys.set(namespace, key);
    }
    return key;
  }

  private groupGenerationKey(namespace: string | null, group: string): string {
    let keys = this.groupKeys.get(namespace);
    if (keys === undefined || keys.size >= 1000) {
      if (this.groupKeys.size >= 1000) this.groupKeys.clear();
      keys = new Map();
      this.groupKeys.set(namespace, keys);
    }
    let key = keys.get(group);
    if (key === undefined) {
      key = internalKey('gen', this.options.version, 'group', namespace, group);
      keys.set(group, key);
    }
    return key;
  }

  private namespaceOf(options: NamespaceOption): string | null {
    const namespace = options.namespace === undefined ? this.options.namespace : options.namespace;
    if (namespace !== null && typeof namespace !== 'string') {
      throw new CacheKeyError(`a namespace must be a string or null, got ${typeof namespace}`);
    }
    return namespace;
  }

  private count(value: unknown): void {
    if (value === undefined) this.counters.misses++;
    else this.counters.hits++;
  }
}

function checkGroup(group: unknown): string {
  if (typeof group !== 'string')
    throw new CacheKeyError(`a group name must be a string, got ${typeof group}`);
  return group;
}

const NO_GROUPS: string[] = [];

function groupsOf(options: KeyOptions): string[] {
  if (options.groups === undefined) {
    return options.group === undefined ? NO_GROUPS : [checkGroup(options.group)];
  }
  const all = [...(options.groups ?? []), ...(options.group === undefined ? [] : [options.group])];
  return [...new Set(all.map(checkGroup))].sort();
}

function trackedEntry(resolved: ResolvedKey, expiry: number): TrackedEntry {
  const entry: TrackedEntry = { k: resolved.id, e: expiry };
  if (resolved.raw) entry.r = 1;
  if (resolved.groups.length > 0) entry.g = resolved.groups;
  return entry;
}
