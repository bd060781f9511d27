/**
 * The figures of a user's whole storage, put together from the metadata,
 * the database and the cache-only entries (seed 000 `get_collection_counts`,
 * `get_collection_sizes`, `_recalculate_total_size`).
 */
import { CollectionNotFoundError } from '../errors.js';
import type { SyncStorage, UserId } from '../sync-storage.js';
import type { CacheOnlyManager } from './cache-only-manager.js';
import { isCacheError } from './guarded-cache.js';
import type { MetadataStore } from './metadata.js';

export interface UserTotalsDeps {
  storage: SyncStorage;
  metadata: MetadataStore;
  cacheOnly: ReadonlyMap<string, CacheOnlyManager>;
}

export class UserTotals {
  constructor(private readonly deps: UserTotalsDeps) {}

  /** Database timestamps, with cache-only collections taken from the cache. */
  async sourceTimestamps(userId: UserId): Promise<Record<string, number>> {
    const timestamps = await this.deps.storage.getCollectionTimestamps(userId);
    for (const [name, manager] of this.deps.cacheOnly) {
      delete timestamps[name];
      const data = await manager.read(userId);
      if (data) timestamps[name] = data.modified;
    }
    return timestamps;
  }

  /** Timestamps from the metadata; dirty ones from their source, written back when safe. */
  async resolveTimestamps(
    userId: UserId,
  ): Promise<{ collections: Record<string, number>; storage: number }> {
    const snapshot = await this.deps.metadata.read(userId);
    const m = snapshot.metadata;
    const collections: Record<string, number> = {};
    const truths: Record<string, number | undefined> = {};
    for (const [name, ts] of Object.entries(m.collections)) {
      if (ts !== null) {
        collections[name] = ts;
        continue;
      }
      try {
        const manager = this.deps.cacheOnly.get(name);
        const truth = manager
          ? await manager.getTimestamp(userId)
          : await this.deps.storage.getCollectionTimestamp(userId, name);
        collections[name] = truth;
        truths[name] = truth;
      } catch (error) {
        if (!(error instanceof CollectionNotFoundError)) throw error;
        truths[name] = undefined;
      }
    }
    let storage = m.modified;
    let storageTruth: number | undefined;
    if (storage === null) {
      storageTruth = await this.deps.storage.getStorageTimestamp(userId);
      storage = Math.max(m.floor, storageTruth, ...Object.values(collections));
    }
    if (Object.keys(truths).length > 0 || storageTruth !== undefined) {
      try {
        await this.deps.metadata.heal(userId, snapshot, truths, storageTruth);
      } catch (error) {
        if (!isCacheError(error)) throw error;
      }
    }
    return { collections, storage };
  }

  /** Database figures with the cache-only collections' own (left out while the cache is down). */
  async withCacheOnlyUsage(
    userId: UserId,
    fromDatabase: Record<string, number>,
    pick: (usage: { count: number; size: number }) => number,
  ): Promise<Record<string, number>> {
    const result = { ...fromDatabase };
    for (const [name, manager] of this.deps.cacheOnly) {
      delete result[name];
      try {
        const usage = await manager.usage(userId);
        if (usage) result[name] = pick(usage);
      } catch (error) {
        if (!isCacheError(error)) throw error;
      }
    }
    return result;
  }

  async recalculateTotalSize(userId: UserId): Promise<number> {
    let size = await this.deps.storage.getTotalSize(userId, true);
    if (this.deps.cacheOnly.size === 0) return size;
    // A database row of a collection that is now cache-only is not served.
    const dbSizes = await this.deps.storage.getCollectionSizes(userId);
    for (const [name, manager] of this.deps.cacheOnly) {
      size -= dbSizes[name] ?? 0;
      size += (await manager.usage(userId))?.size ?? 0;
    }
    return size;
  }
}
