/**
 * `CachedStorage`: the memcached layer over any `SyncStorage` (seed 000
 * `MemcachedStorage`). Metadata in the cache answers info/collections and
 * timestamps; chosen collections are cached write-through or kept only in
 * the cache; every write marks its collection dirty first.
 *
 * Faults: any cache failure on a cached or uncached collection falls back to
 * the database (the truth); cache-only collections throw
 * `StorageUnavailableError` instead. See README.md in this folder.
 */
import {
  CollectionNotFoundError,
  ItemNotFoundError,
  LockEscalationError,
  StorageError,
  StorageUnavailableError,
} from '../errors.js';
import type {
  Bso,
  BsoInput,
  FindOptions,
  FindResult,
  PurgeOptions,
  PurgeResult,
  SetItemResult,
  SyncStorage,
  UserId,
  UserTimestamps,
} from '../sync-storage.js';
import { CacheKeys } from './cache-keys.js';
import { CacheLocks } from './cache-lock.js';
import { CacheOnlyManager } from './cache-only-manager.js';
import { CollectionLocks } from './collection-locks.js';
import { UserTotals } from './user-totals.js';
import { CachedManager } from './cached-manager.js';
import type { CollectionManager, WriteBase } from './collection-manager.js';
import { payloadBytes } from './collection-data.js';
import { GuardedCache, isCacheError } from './guarded-cache.js';
import { heldLock, type LockContext, noteWrite, rootContext } from './lock-scope.js';
import { type DirtyMark, MetadataStore, type WriteOutcome } from './metadata.js';
import { type CachedStorageOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { UncachedManager } from './uncached-manager.js';
// The storage layer's argument checks: refuse the same input as any backend,
// before any of it becomes part of a cache key.
import {
  checkBsoFields,
  checkBsoInputs,
  checkCollection,
  checkFindOptions,
  checkIds,
  checkItemId,
  checkUserId,
} from '../input-checks.js';

/** Seed 000: recalculate the total size at most once an hour. */
const SIZE_RECALCULATION_SECONDS = 60 * 60;

/** What every view of one cached storage shares (see `CachedStorage.view`). */
interface Shared {
  readonly options: ResolvedOptions;
  readonly keys: CacheKeys;
  readonly cache: GuardedCache;
  readonly locks: CollectionLocks;
  /** Users whose current write met a cache failure (invalidated after the write). */
  readonly troubled: Set<UserId>;
}

/** Marks the constructor call that makes a lock's view (module-private). */
const VIEW = Symbol('CachedStorage lock view');

interface ViewInit {
  readonly [VIEW]: { readonly shared: Shared; readonly ctx: LockContext };
}

export class CachedStorage implements SyncStorage {
  readonly options: ResolvedOptions;
  /** The locks this view holds, and the storage below (the database lock's `tx` inside one). */
  private readonly ctx: LockContext;
  private readonly inner: SyncStorage;
  private readonly shared: Shared;
  private readonly keys: CacheKeys;
  private readonly cache: GuardedCache;
  private readonly locks: CollectionLocks;
  private readonly troubled: Set<UserId>;
  // Per view: these call below through `ctx`.
  private readonly metadata: MetadataStore;
  private readonly totals: UserTotals;
  private readonly cached = new Map<string, CachedManager>();
  private readonly cacheOnly = new Map<string, CacheOnlyManager>();

  constructor(options: CachedStorageOptions | ViewInit) {
    if (VIEW in options) {
      this.shared = options[VIEW].shared;
      this.ctx = options[VIEW].ctx;
    } else {
      const resolved = resolveOptions(options);
      const cache = new GuardedCache(resolved.cache, resolved.logger, (userId) =>
        this.invalidationKeys(userId),
      );
      const keys = new CacheKeys(resolved.keyPrefix);
      this.shared = {
        options: resolved,
        keys,
        cache,
        locks: new CollectionLocks({
          cache,
          mutexes: new CacheLocks(cache, keys, resolved.lockTtl, resolved.clock),
          cached: resolved.cachedCollections,
          cacheOnly: resolved.cacheOnlyCollections,
          cacheLocks: resolved.cacheLocks,
        }),
        troubled: new Set(),
      };
      this.ctx = rootContext(resolved.storage);
    }
    ({
      options: this.options,
      keys: this.keys,
      cache: this.cache,
      locks: this.locks,
      troubled: this.troubled,
    } = this.shared);
    const { clock, lockTtl, entryLifetime } = this.options;
    const ctx = this.ctx;
    this.inner = ctx.storage;
    this.metadata = new MetadataStore(
      this.cache,
      this.keys,
      {
        collectionTimestamps: (userId) => this.totals.sourceTimestamps(userId),
        storageTimestamp: (userId) => this.inner.getStorageTimestamp(userId),
      },
      clock,
      lockTtl,
      entryLifetime,
    );
    this.totals = new UserTotals({
      storage: this.inner,
      metadata: this.metadata,
      cacheOnly: this.cacheOnly,
    });
    for (const name of this.options.cachedCollections) {
      this.cached.set(
        name,
        new CachedManager(
          {
            ctx,
            cache: this.cache,
            keys: this.keys,
            metadata: this.metadata,
            clock,
            noteCacheTrouble: (userId, error) => this.noteCacheTrouble(userId, error),
          },
          name,
        ),
      );
    }
    for (const name of this.options.cacheOnlyCollections) {
      this.cacheOnly.set(
        name,
        new CacheOnlyManager({ cache: this.cache, keys: this.keys, clock, ctx }, name),
      );
    }
  }

  /** This storage as seen from inside a lock: the same shared state, another context. */
  private view(ctx: LockContext): CachedStorage {
    return ctx === this.ctx ? this : new CachedStorage({ [VIEW]: { shared: this.shared, ctx } });
  }

  private manager(collection: string): CollectionManager {
    checkCollection(collection);
    return (
      this.cached.get(collection) ??
      this.cacheOnly.get(collection) ??
      new UncachedManager(this.inner, collection)
    );
  }

  /** Keys whose contents derive from the database (cache-only data is not among them). */
  private invalidationKeys(userId: UserId): string[] {
    return [
      this.keys.metadata(userId),
      ...[...this.options.cachedCollections].map((c) => this.keys.collection(userId, c)),
    ];
  }

  private noteCacheTrouble(userId: UserId, error: unknown): void {
    if (isCacheError(error)) this.troubled.add(userId);
  }

  /** Try the cache; on any cache failure, answer from the database. */
  private async orDatabase<T>(
    viaCache: () => Promise<T>,
    viaDatabase: () => Promise<T>,
  ): Promise<T> {
    try {
      return await viaCache();
    } catch (error) {
      if (!isCacheError(error)) throw error;
      return viaDatabase();
    }
  }

  // --- Locks.

  async withReadLock<T>(
    userId: UserId,
    collection: string,
    fn: (tx: SyncStorage) => Promise<T>,
  ): Promise<T> {
    checkUserId(userId);
    checkCollection(collection);
    return this.locks.run(this.ctx, 'read', userId, collection, (ctx) => fn(this.view(ctx)));
  }

  async withWriteLock<T>(
    userId: UserId,
    collection: string,
    fn: (tx: SyncStorage) => Promise<T>,
  ): Promise<T> {
    checkUserId(userId);
    checkCollection(collection);
    return this.locks.run(this.ctx, 'write', userId, collection, (ctx) => fn(this.view(ctx)));
  }

  // --- Writes: dirty mark, write, outcome (seed 000 `_mark_collection_dirty`).

  private async write<T>(
    userId: UserId,
    collection: string,
    op: (manager: CollectionManager, base: WriteBase | undefined) => Promise<T>,
    outcome: (result: T) => WriteOutcome,
  ): Promise<T> {
    checkUserId(userId);
    const manager = this.manager(collection);
    const held = heldLock(this.ctx, userId, collection);
    if (held?.inCache && held.mode === 'read') {
      throw new LockEscalationError(`cannot write ${collection} inside its read lock`);
    }
    let mark: DirtyMark;
    try {
      mark = await this.metadata.markDirty(userId, collection);
    } catch (error) {
      if (!isCacheError(error)) throw error;
      // No dirty mark, no write (issue 13): another process reading this
      // user's metadata from the cache would not know the database moved on.
      throw new StorageUnavailableError(
        manager.kind === 'cache-only'
          ? `collection ${collection} is kept only in the cache, which is unavailable`
          : 'the cache is unavailable: a write that other processes could not see is refused',
        { cause: error },
      );
    }
    noteWrite(this.ctx, userId, collection);
    const base = { collectionTs: mark.before, storageTs: mark.storageBefore };
    let result: T;
    try {
      result = await op(manager, base);
    } catch (error) {
      // A storage error means nothing was written: the old values are right.
      const undone = error instanceof StorageError && !(error instanceof StorageUnavailableError);
      const cacheFailed = !(await this.finish(
        userId,
        mark,
        undone ? { kind: 'rollback' } : { kind: 'unknown' },
      ));
      await this.afterWrite(userId, cacheFailed);
      throw error;
    }
    const cacheFailed = !(await this.finish(userId, mark, outcome(result)));
    await this.afterWrite(userId, cacheFailed);
    return result;
  }

  /** Record the outcome; false if the cache failed (the entry then stays dirty). */
  private async finish(userId: UserId, mark: DirtyMark, outcome: WriteOutcome): Promise<boolean> {
    try {
      await this.metadata.finish(userId, mark, outcome);
      return true;
    } catch (error) {
      if (!isCacheError(error)) throw error;
      // Left dirty with a write counted in flight: the user's keys must go.
      return false;
    }
  }

  private async afterWrite(userId: UserId, cacheFailed: boolean): Promise<void> {
    if (cacheFailed || this.troubled.delete(userId)) {
      await this.cache.noteUnrecordedWrite(userId);
    }
  }

  // --- The whole storage of a user.

  async getStorageTimestamp(userId: UserId): Promise<number> {
    checkUserId(userId);
    return this.orDatabase(
      async () => (await this.totals.resolveTimestamps(userId)).storage,
      () => this.inner.getStorageTimestamp(userId),
    );
  }

  async getCollectionTimestamps(userId: UserId): Promise<Record<string, number>> {
    return (await this.getTimestamps(userId)).collections;
  }

  async getTimestamps(userId: UserId): Promise<UserTimestamps> {
    checkUserId(userId);
    return this.orDatabase(
      () => this.totals.resolveTimestamps(userId),
      async () => {
        // Cache-only collections cannot be known without the cache.
        const timestamps = await this.inner.getTimestamps(userId);
        for (const name of this.cacheOnly.keys()) delete timestamps.collections[name];
        return timestamps;
      },
    );
  }

  async getCollectionCounts(userId: UserId): Promise<Record<string, number>> {
    checkUserId(userId);
    return this.totals.withCacheOnlyUsage(
      userId,
      await this.inner.getCollectionCounts(userId),
      (u) => u.count,
    );
  }

  async getCollectionSizes(userId: UserId): Promise<Record<string, number>> {
    checkUserId(userId);
    const sizes = await this.totals.withCacheOnlyUsage(
      userId,
      await this.inner.getCollectionSizes(userId),
      (u) => u.size,
    );
    // Having just summed everything, keep the total (seed 000).
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    try {
      await this.metadata.storeSize(userId, total);
    } catch (error) {
      if (!isCacheError(error)) throw error;
    }
    return sizes;
  }

  async getTotalSize(userId: UserId, recalculate = false): Promise<number> {
    checkUserId(userId);
    return this.orDatabase(
      async () => {
        const { metadata: m } = await this.metadata.read(userId);
        const age = Math.floor(this.options.clock() / 1000) - m.last_size_recalc;
        // seed bug: a rebuilt entry reported size 0 until a recalculation was asked for.
        if (m.last_size_recalc === 0 || (recalculate && age > SIZE_RECALCULATION_SECONDS)) {
          const size = await this.totals.recalculateTotalSize(userId);
          await this.metadata.storeSize(userId, size);
          return size;
        }
        return m.size;
      },
      () => this.inner.getTotalSize(userId, recalculate),
    );
  }

  async deleteStorage(userId: UserId): Promise<void> {
    checkUserId(userId);
    const keys = [
      ...this.invalidationKeys(userId),
      ...[...this.cacheOnly.keys()].flatMap((c) => [
        this.keys.collection(userId, c),
        this.keys.batches(userId, c),
      ]),
    ];
    try {
      for (const key of keys) await this.cache.delete(key);
    } catch (error) {
      if (!isCacheError(error)) throw error;
      // As for any write: what the cache cannot forget, the database keeps.
      throw new StorageUnavailableError(
        'cannot delete the cached entries: the cache is unavailable',
        { cause: error },
      );
    }
    await this.inner.deleteStorage(userId);
    // A reader may have rebuilt the metadata from the database in between.
    await this.cache.noteUnrecordedWrite(userId);
  }

  // --- One collection.

  async getCollectionTimestamp(userId: UserId, collection: string): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    const cachedManager = this.cached.get(collection);
    if (cachedManager && heldLock(this.ctx, userId, collection)?.snapshotOnly) {
      // Inside a snapshot read lock: the snapshot's own timestamp.
      return this.orDatabase(
        async () => (await cachedManager.load(userId)).modified,
        () => this.inner.getCollectionTimestamp(userId, collection),
      );
    }
    // Reading all cached timestamps is cheaper than one from the database (seed 000).
    return this.orDatabase(
      async () => {
        const ts = (await this.totals.resolveTimestamps(userId)).collections[collection];
        if (ts === undefined) throw new CollectionNotFoundError(collection);
        return ts;
      },
      () =>
        this.cacheOnly.get(collection)?.getTimestamp(userId) ??
        this.inner.getCollectionTimestamp(userId, collection),
    );
  }

  async getItems(
    userId: UserId,
    collection: string,
    options: FindOptions = {},
  ): Promise<FindResult<Bso>> {
    checkUserId(userId);
    checkFindOptions(options);
    const manager = this.manager(collection);
    if (manager instanceof CacheOnlyManager) {
      return this.readCacheOnly(userId, manager, () => manager.getItems(userId, options));
    }
    if (manager.kind !== 'cached') return manager.getItems(userId, options);
    return this.orDatabase(
      () => manager.getItems(userId, options),
      () => this.inner.getItems(userId, collection, options),
    );
  }

  /**
   * A cache-only collection that the metadata lists but the cache no longer
   * has (evicted under memory pressure) is forgotten, so info/collections
   * stops listing what cannot be read.
   */
  private async readCacheOnly<T>(
    userId: UserId,
    manager: CacheOnlyManager,
    read: () => Promise<T>,
  ): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof CollectionNotFoundError) {
        try {
          const snapshot = await this.metadata.read(userId);
          if (!(await manager.read(userId))) {
            await this.metadata.forget(userId, snapshot, manager.collection);
          }
        } catch (cacheError) {
          if (!isCacheError(cacheError)) throw cacheError;
        }
      }
      throw error;
    }
  }

  async getItemIds(
    userId: UserId,
    collection: string,
    options: FindOptions = {},
  ): Promise<FindResult<string>> {
    checkUserId(userId);
    checkFindOptions(options);
    if (this.manager(collection).kind === 'uncached') {
      return this.inner.getItemIds(userId, collection, options);
    }
    const { items, nextOffset } = await this.getItems(userId, collection, options);
    return { items: items.map((bso) => bso.id), nextOffset };
  }

  async setItems(userId: UserId, collection: string, items: readonly BsoInput[]): Promise<number> {
    checkBsoInputs(items);
    return this.write(
      userId,
      collection,
      (manager, base) => manager.setItems(userId, items, base),
      (ts) => ({ kind: 'done', collectionTs: ts, storageTs: ts, sizeDelta: payloadBytes(items) }),
    );
  }

  async deleteCollection(userId: UserId, collection: string): Promise<number> {
    return this.write(
      userId,
      collection,
      (manager, base) => manager.deleteCollection(userId, base),
      (ts) => ({ kind: 'done', collectionTs: null, storageTs: ts, sizeDelta: 0 }),
    );
  }

  async deleteItems(userId: UserId, collection: string, ids: readonly string[]): Promise<number> {
    checkIds(ids);
    return this.write(
      userId,
      collection,
      (manager, base) => manager.deleteItems(userId, ids, base),
      (ts) => ({ kind: 'done', collectionTs: ts, storageTs: ts, sizeDelta: 0 }),
    );
  }

  // --- One item.

  async getItemTimestamp(userId: UserId, collection: string, id: string): Promise<number> {
    checkUserId(userId);
    checkItemId(id);
    if (this.manager(collection).kind === 'uncached') {
      return this.inner.getItemTimestamp(userId, collection, id);
    }
    try {
      return (await this.getItem(userId, collection, id)).modified;
    } catch (error) {
      // As the backend: an item of a collection that does not exist is just missing.
      if (error instanceof CollectionNotFoundError) throw new ItemNotFoundError(id);
      throw error;
    }
  }

  async getItem(userId: UserId, collection: string, id: string): Promise<Bso> {
    checkUserId(userId);
    checkItemId(id);
    const manager = this.manager(collection);
    if (manager instanceof CacheOnlyManager) {
      return this.readCacheOnly(userId, manager, () => manager.getItem(userId, id));
    }
    if (manager.kind !== 'cached') return manager.getItem(userId, id);
    return this.orDatabase(
      () => manager.getItem(userId, id),
      () => this.inner.getItem(userId, collection, id),
    );
  }

  async setItem(
    userId: UserId,
    collection: string,
    id: string,
    data: Omit<BsoInput, 'id'>,
  ): Promise<SetItemResult> {
    checkBsoFields({ ...data, id });
    return this.write(
      userId,
      collection,
      (manager, base) => manager.setItem(userId, id, data, base),
      (res) => ({
        kind: 'done',
        collectionTs: res.modified,
        storageTs: res.modified,
        sizeDelta: payloadBytes([data]),
      }),
    );
  }

  async deleteItem(userId: UserId, collection: string, id: string): Promise<number> {
    checkItemId(id);
    return this.write(
      userId,
      collection,
      (manager, base) => manager.deleteItem(userId, id, base),
      (ts) => ({ kind: 'done', collectionTs: ts, storageTs: ts, sizeDelta: 0 }),
    );
  }

  // --- Batches.

  async createBatch(userId: UserId, collection: string): Promise<string> {
    checkUserId(userId);
    return this.manager(collection).createBatch(userId);
  }

  async validBatch(userId: UserId, collection: string, batchId: string): Promise<boolean> {
    checkUserId(userId);
    return this.manager(collection).validBatch(userId, batchId);
  }

  async appendItemsToBatch(
    userId: UserId,
    collection: string,
    batchId: string,
    items: readonly BsoInput[],
  ): Promise<number> {
    checkUserId(userId);
    checkBsoInputs(items);
    return this.manager(collection).appendItemsToBatch(userId, batchId, items);
  }

  async applyBatch(userId: UserId, collection: string, batchId: string): Promise<number> {
    checkUserId(userId);
    return this.write(
      userId,
      collection,
      (manager, base) => manager.applyBatch(userId, batchId, base),
      // The batch's size is unknown here; the hourly recalculation catches up.
      (ts) => ({ kind: 'done', collectionTs: ts, storageTs: ts, sizeDelta: 0 }),
    );
  }

  async closeBatch(userId: UserId, collection: string, batchId: string): Promise<void> {
    checkUserId(userId);
    return this.manager(collection).closeBatch(userId, batchId);
  }

  // --- Per-user quota: the database's, never cached (the operator sets it rarely).

  getUserQuota(userId: UserId): Promise<number | null> {
    return this.inner.getUserQuota(userId);
  }

  setUserQuota(userId: UserId, bytes: number | null): Promise<void> {
    return this.inner.setUserQuota(userId, bytes);
  }

  // --- Maintenance.

  async purgeExpiredItems(options?: PurgeOptions): Promise<PurgeResult> {
    // Cached copies drop expired items on each write; there is no way to
    // enumerate users in memcached (seed 000), so only the database is purged.
    return this.inner.purgeExpiredItems(options);
  }

  async healthCheck(): Promise<{ database: boolean; cache?: boolean }> {
    const { database } = await this.inner.healthCheck();
    return { database, cache: await this.cache.ping() };
  }

  async close(): Promise<void> {
    await this.inner.close();
    await this.options.cache.close();
  }
}
