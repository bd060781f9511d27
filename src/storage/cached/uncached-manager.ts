/**
 * Collections that live only in the database: every call passes through
 * (seed 000 `UncachedManager`). Their timestamps are still in the metadata.
 */
import type {
  Bso,
  BsoInput,
  FindOptions,
  FindResult,
  SetItemResult,
  SyncStorage,
  UserId,
} from '../sync-storage.js';
import type { CollectionManager } from './collection-manager.js';

export class UncachedManager implements CollectionManager {
  readonly kind = 'uncached';

  constructor(
    private readonly storage: SyncStorage,
    readonly collection: string,
  ) {}

  getTimestamp(userId: UserId): Promise<number> {
    return this.storage.getCollectionTimestamp(userId, this.collection);
  }

  getItems(userId: UserId, options: FindOptions): Promise<FindResult<Bso>> {
    return this.storage.getItems(userId, this.collection, options);
  }

  getItem(userId: UserId, id: string): Promise<Bso> {
    return this.storage.getItem(userId, this.collection, id);
  }

  setItems(userId: UserId, items: readonly BsoInput[]): Promise<number> {
    return this.storage.setItems(userId, this.collection, items);
  }

  setItem(userId: UserId, id: string, data: Omit<BsoInput, 'id'>): Promise<SetItemResult> {
    return this.storage.setItem(userId, this.collection, id, data);
  }

  deleteCollection(userId: UserId): Promise<number> {
    return this.storage.deleteCollection(userId, this.collection);
  }

  deleteItems(userId: UserId, ids: readonly string[]): Promise<number> {
    return this.storage.deleteItems(userId, this.collection, ids);
  }

  deleteItem(userId: UserId, id: string): Promise<number> {
    return this.storage.deleteItem(userId, this.collection, id);
  }

  createBatch(userId: UserId): Promise<string> {
    return this.storage.createBatch(userId, this.collection);
  }

  validBatch(userId: UserId, batchId: string): Promise<boolean> {
    return this.storage.validBatch(userId, this.collection, batchId);
  }

  appendItemsToBatch(userId: UserId, batchId: string, items: readonly BsoInput[]): Promise<number> {
    return this.storage.appendItemsToBatch(userId, this.collection, batchId, items);
  }

  applyBatch(userId: UserId, batchId: string): Promise<number> {
    return this.storage.applyBatch(userId, this.collection, batchId);
  }

  closeBatch(userId: UserId, batchId: string): Promise<void> {
    return this.storage.closeBatch(userId, this.collection, batchId);
  }
}
