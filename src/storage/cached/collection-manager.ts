/**
 * A collection manager does one collection's reads and writes for one kind
 * of caching (seed 000): `UncachedManager` (database only), `CachedManager`
 * (database plus a write-through copy) and `CacheOnlyManager` (cache only).
 * `CachedStorage` picks the manager by collection name, validates
 * arguments, and wraps every write in the metadata dirty-marking; managers
 * see only valid input.
 *
 * Errors: the `SyncStorage` ones. A cached manager may also throw the
 * cache's errors from reads (the caller then asks the database); a
 * cache-only manager turns them into `StorageUnavailableError`.
 */
import type {
  Bso,
  BsoInput,
  FindOptions,
  FindResult,
  SetItemResult,
  UserId,
} from '../sync-storage.js';

/** What the metadata said before a write (absent when the cache is down). */
export interface WriteBase {
  /** The collection's timestamp before the write, if it existed and was clean. */
  collectionTs: number | undefined;
  /** The storage timestamp before the write (a lower bound if dirty). */
  storageTs: number;
}

export interface CollectionManager {
  readonly kind: 'uncached' | 'cached' | 'cache-only';
  readonly collection: string;

  /** The collection's timestamp. Throws `CollectionNotFoundError`. */
  getTimestamp(userId: UserId): Promise<number>;
  /** As `SyncStorage.getItems`: `CollectionNotFoundError`, `InvalidOffsetError`. */
  getItems(userId: UserId, options: FindOptions): Promise<FindResult<Bso>>;
  /** One live item. Throws `ItemNotFoundError`, `CollectionNotFoundError`. */
  getItem(userId: UserId, id: string): Promise<Bso>;

  /** Write items; returns the new collection timestamp. */
  setItems(userId: UserId, items: readonly BsoInput[], base?: WriteBase): Promise<number>;
  /** Write one item; `created` and the new collection timestamp. */
  setItem(
    userId: UserId,
    id: string,
    data: Omit<BsoInput, 'id'>,
    base?: WriteBase,
  ): Promise<SetItemResult>;
  /** Returns the new storage timestamp. Throws `CollectionNotFoundError`. */
  deleteCollection(userId: UserId, base?: WriteBase): Promise<number>;
  /** Returns the new collection timestamp. Throws `CollectionNotFoundError`. */
  deleteItems(userId: UserId, ids: readonly string[], base?: WriteBase): Promise<number>;
  /** Returns the new collection timestamp. Throws `ItemNotFoundError`. */
  deleteItem(userId: UserId, id: string, base?: WriteBase): Promise<number>;

  /** A new batch id (digits). */
  createBatch(userId: UserId): Promise<string>;
  /** False for unknown, expired or closed batches; never throws for a bad id. */
  validBatch(userId: UserId, batchId: string): Promise<boolean>;
  /** Throws `InvalidBatchError`. The items stay invisible until `applyBatch`. */
  appendItemsToBatch(userId: UserId, batchId: string, items: readonly BsoInput[]): Promise<number>;
  /** Apply at one timestamp and return it. Throws `InvalidBatchError`. */
  applyBatch(userId: UserId, batchId: string, base?: WriteBase): Promise<number>;
  /** Forget the batch; unknown ids are a no-op. */
  closeBatch(userId: UserId, batchId: string): Promise<void>;
}
