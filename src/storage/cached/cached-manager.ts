/**
 * Write-through collections (seed 000 `CachedManager`): the database holds
 * the truth, the cache a copy of the whole collection under
 * `{uid}:c:{collection}`.
 *
 * - A copy is served only if its `modified` equals the collection's clean
 *   timestamp in the metadata (fetched in the same round trip), so a copy
 *   that missed a write — however that happened — is never served.
 * - A missing or mismatched copy is rebuilt from the database under a read
 *   lock and stored with `add`, which never overwrites a newer copy.
 * - A write removes the copy first (CAS delete: if the copy changed since it
 *   was read, it is removed and not reused), writes the database, then adds
 *   the updated copy. If that `add` loses to anyone, the entry is cleared
 *   instead of failing a request that already succeeded in the database.
 * - On a storage error the old copy is put back (the write did not happen).
 */
import { CollectionNotFoundError, ItemNotFoundError, StorageError } from '../errors.js';
import type {
  Bso,
  BsoInput,
  FindOptions,
  FindResult,
  SetItemResult,
  UserId,
} from '../sync-storage.js';
import type { CacheKeys } from './cache-keys.js';
import type { CollectionManager, WriteBase } from './collection-manager.js';
import {
  applyDelete,
  applySet,
  type CollectionData,
  isCollectionData,
  isExpired,
  itemRecord,
  ownItem,
} from './collection-data.js';
import { isCacheError, type GuardedCache } from './guarded-cache.js';
import { heldLock, type LockContext } from './lock-scope.js';
import { isMetadata, type MetadataStore } from './metadata.js';
import { findItems } from './page-query.js';

export interface CachedManagerDeps {
  /** The caller's locks, and the storage below (the database lock's `tx` inside one). */
  ctx: LockContext;
  cache: GuardedCache;
  keys: CacheKeys;
  metadata: MetadataStore;
  clock: () => number;
  /** The cache could not be told about a write of this user. */
  noteCacheTrouble(userId: UserId, error: unknown): void;
}

export class CachedManager implements CollectionManager {
  readonly kind = 'cached';

  constructor(
    private readonly deps: CachedManagerDeps,
    readonly collection: string,
  ) {}

  private nowSeconds(): number {
    return Math.floor(this.deps.clock() / 1000);
  }

  private key(userId: UserId): string {
    return this.deps.keys.collection(userId, this.collection);
  }

  /**
   * The collection, from the cache when the copy is current, else from the
   * database; inside a snapshot read lock, the snapshot taken first.
   */
  async load(userId: UserId): Promise<CollectionData> {
    const held = heldLock(this.deps.ctx, userId, this.collection);
    if (!held?.snapshotOnly) return this.fetch(userId);
    held.snapshot ??= await this.fetch(userId);
    return held.snapshot;
  }

  private async fetch(userId: UserId): Promise<CollectionData> {
    const { cache, keys, metadata } = this.deps;
    const [rawMeta, rawData] = await cache.getMulti([keys.metadata(userId), this.key(userId)]);
    const meta = isMetadata(rawMeta) ? rawMeta : (await metadata.read(userId)).metadata;
    const expected = meta.collections[this.collection];
    if (expected === undefined) throw new CollectionNotFoundError(this.collection);
    if (isCollectionData(rawData) && expected !== null && rawData.modified === expected) {
      return rawData;
    }
    // The database's read lock makes timestamp and items one snapshot.
    const data = await this.deps.ctx.storage.withReadLock(userId, this.collection, async (tx) => {
      const ts = await tx.getCollectionTimestamp(userId, this.collection);
      const { items } = await tx.getItems(userId, this.collection, {});
      const record = itemRecord();
      for (const bso of items) record[bso.id] = bso;
      return { modified: ts, items: record };
    });
    try {
      if (rawData !== undefined) await cache.delete(this.key(userId));
      await cache.add(this.key(userId), data);
    } catch (error) {
      // Too large to cache, or the cache just went away: serve it anyway.
      if (!isCacheError(error)) throw error;
    }
    return data;
  }

  async getTimestamp(userId: UserId): Promise<number> {
    return (await this.load(userId)).modified;
  }

  async getItems(userId: UserId, options: FindOptions): Promise<FindResult<Bso>> {
    const data = await this.load(userId);
    return findItems(data.items, options, this.nowSeconds());
  }

  async getItem(userId: UserId, id: string): Promise<Bso> {
    const data = await this.load(userId);
    const bso = ownItem(data.items, id);
    if (!bso || isExpired(bso, this.nowSeconds())) throw new ItemNotFoundError(id);
    return bso;
  }

  /**
   * Take the copy out of the cache before a write; returns it if it is
   * current (so it can be updated and put back), else undefined.
   */
  private async takeOut(
    userId: UserId,
    base: WriteBase | undefined,
  ): Promise<CollectionData | undefined> {
    const { cache } = this.deps;
    const key = this.key(userId);
    try {
      const hit = await cache.gets(key, isCollectionData);
      if (!hit) return undefined;
      if (!(await cache.delete(key, hit.cas))) {
        await cache.delete(key);
        return undefined;
      }
      const current =
        hit.value !== null &&
        base?.collectionTs !== undefined &&
        hit.value.modified === base.collectionTs;
      return current ? (hit.value ?? undefined) : undefined;
    } catch (error) {
      if (!isCacheError(error)) throw error;
      this.deps.noteCacheTrouble(userId, error);
      return undefined;
    }
  }

  /** Put a copy back; whoever beat us to it, clear the entry instead. */
  private async putBack(userId: UserId, data: CollectionData): Promise<void> {
    const { cache } = this.deps;
    const key = this.key(userId);
    try {
      if (!(await cache.add(key, data))) await cache.delete(key);
    } catch (error) {
      if (!isCacheError(error)) throw error;
      this.deps.noteCacheTrouble(userId, error);
      await cache.deleteQuietly(key);
    }
  }

  /** Run a database write between taking the copy out and putting it back. */
  private async writeThrough<T>(
    userId: UserId,
    base: WriteBase | undefined,
    write: () => Promise<T>,
    update: ((old: CollectionData, result: T) => CollectionData) | undefined,
  ): Promise<T> {
    const old = await this.takeOut(userId, base);
    let result: T;
    try {
      result = await write();
    } catch (error) {
      // A storage error means the write did not happen: the old copy is still right.
      if (old && error instanceof StorageError) await this.putBack(userId, old);
      throw error;
    }
    if (old && update) await this.putBack(userId, update(old, result));
    return result;
  }

  setItems(userId: UserId, items: readonly BsoInput[], base?: WriteBase): Promise<number> {
    return this.writeThrough(
      userId,
      base,
      () => this.deps.ctx.storage.setItems(userId, this.collection, items),
      (old, ts) => applySet(old, items, ts, this.nowSeconds()).data,
    );
  }

  setItem(
    userId: UserId,
    id: string,
    data: Omit<BsoInput, 'id'>,
    base?: WriteBase,
  ): Promise<SetItemResult> {
    return this.writeThrough(
      userId,
      base,
      () => this.deps.ctx.storage.setItem(userId, this.collection, id, data),
      (old, res) => applySet(old, [{ ...data, id }], res.modified, this.nowSeconds()).data,
    );
  }

  async deleteCollection(userId: UserId, base?: WriteBase): Promise<number> {
    return this.writeThrough(
      userId,
      base,
      () => this.deps.ctx.storage.deleteCollection(userId, this.collection),
      undefined,
    );
  }

  deleteItems(userId: UserId, ids: readonly string[], base?: WriteBase): Promise<number> {
    return this.writeThrough(
      userId,
      base,
      () => this.deps.ctx.storage.deleteItems(userId, this.collection, ids),
      (old, ts) => applyDelete(old, ids, ts).data,
    );
  }

  deleteItem(userId: UserId, id: string, base?: WriteBase): Promise<number> {
    return this.writeThrough(
      userId,
      base,
      () => this.deps.ctx.storage.deleteItem(userId, this.collection, id),
      (old, ts) => applyDelete(old, [id], ts).data,
    );
  }

  createBatch(userId: UserId): Promise<string> {
    return this.deps.ctx.storage.createBatch(userId, this.collection);
  }

  validBatch(userId: UserId, batchId: string): Promise<boolean> {
    return this.deps.ctx.storage.validBatch(userId, this.collection, batchId);
  }

  appendItemsToBatch(userId: UserId, batchId: string, items: readonly BsoInput[]): Promise<number> {
    // Batch items are invisible until applied: nothing cached changes.
    return this.deps.ctx.storage.appendItemsToBatch(userId, this.collection, batchId, items);
  }

  applyBatch(userId: UserId, batchId: string, base?: WriteBase): Promise<number> {
    // The batch's items are in the database only: leave the copy out and let
    // the next read rebuild it.
    return this.writeThrough(
      userId,
      base,
      () => this.deps.ctx.storage.applyBatch(userId, this.collection, batchId),
      undefined,
    );
  }

  closeBatch(userId: UserId, batchId: string): Promise<void> {
    return this.deps.ctx.storage.closeBatch(userId, this.collection, batchId);
  }
}
