/**
 * A collection manager does one collection's reads and writes for one kind
 * of caching (seed 000): `UncachedManager` (database only), `CachedManager`
 * (database plus a write-through copy) and `CacheOnlyManager` (cache only).
 * `CachedStorage` picks the manager by collection name and wraps every
 * write in the metadata dirty-marking.
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

  /** Throws `CollectionNotFoundError`. */
  getTimestamp(userId: UserId): Promise<number>;
  getItems(userId: UserId, options: FindOptions): Promise<FindResult<Bso>>;
  getItem(userId: UserId, id: string): Promise<Bso>;

  setItems(userId: UserId, items: readonly BsoInput[], base?: WriteBase): Promise<number>;
  setItem(
    userId: UserId,
    id: string,
    data: Omit<BsoInput, 'id'>,
    base?: WriteBase,
  ): Promise<SetItemResult>;
  /** Returns the new storage timestamp. */
  deleteCollection(userId: UserId, base?: WriteBase): Promise<number>;
  deleteItems(userId: UserId, ids: readonly string[], base?: WriteBase): Promise<number>;
  deleteItem(userId: UserId, id: string, base?: WriteBase): Promise<number>;

  createBatch(userId: UserId): Promise<string>;
  validBatch(userId: UserId, batchId: string): Promise<boolean>;
  appendItemsToBatch(userId: UserId, batchId: string, items: readonly BsoInput[]): Promise<number>;
  applyBatch(userId: UserId, batchId: string, base?: WriteBase): Promise<number>;
  closeBatch(userId: UserId, batchId: string): Promise<void>;
}
