/**
 * Collections kept only in the cache (seed 000 `CacheOnlyManager`), such as
 * `tabs`: never written to the database, updated by CAS, with their own
 * timestamps and their own pending batches (`{uid}:c:{collection}:batches`).
 *
 * Timestamps are strictly increasing per user and consistent with the
 * storage timestamp: a write gets max(now, collection + 10 ms, storage +
 * 10 ms), and all writes under one cache write lock share one timestamp.
 *
 * When the cache is unreachable these collections cannot work: every call
 * throws `StorageUnavailableError` (HTTP 503) rather than pretend a write
 * was stored.
 */
import { randomInt } from 'node:crypto';
import {
  CollectionNotFoundError,
  ConflictError,
  InvalidBatchError,
  ItemNotFoundError,
  StorageInputError,
  StorageUnavailableError,
} from '../errors.js';
import { nowMs } from '../timestamps.js';
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
  ownItem,
} from './collection-data.js';
import { ValueTooLargeError } from '@syncstorage-ts/memcache';
import { casUpdate, type CasUpdateOptions } from '@syncstorage-ts/cache';
import { isCacheError, type GuardedCache } from './guarded-cache.js';
import { heldLock, type LockContext } from './lock-scope.js';
import { findItems } from './page-query.js';

/** API 1.5: a batch lives two hours. */
const BATCH_LIFETIME_MS = 2 * 60 * 60 * 1000;
/** A few rounds, at once: a cache-only write that keeps losing answers ConflictError (503) for the client to retry. */
const CAS_OPTIONS: CasUpdateOptions = { attempts: 3, pause: () => Promise.resolve() };

interface PendingBatch {
  created: number;
  items: BsoInput[];
}
type Batches = Record<string, PendingBatch>;

function isBatches(value: unknown): value is Batches {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every(
    (b: unknown) =>
      typeof b === 'object' &&
      b !== null &&
      typeof (b as PendingBatch).created === 'number' &&
      Array.isArray((b as PendingBatch).items),
  );
}

export interface CacheOnlyManagerDeps {
  cache: GuardedCache;
  keys: CacheKeys;
  clock: () => number;
  /** The caller's locks. */
  ctx: LockContext;
}

export class CacheOnlyManager implements CollectionManager {
  readonly kind = 'cache-only';

  constructor(
    private readonly deps: CacheOnlyManagerDeps,
    readonly collection: string,
  ) {}

  private key(userId: UserId): string {
    return this.deps.keys.collection(userId, this.collection);
  }

  private batchesKey(userId: UserId): string {
    return this.deps.keys.batches(userId, this.collection);
  }

  private nowSeconds(): number {
    return Math.floor(this.deps.clock() / 1000);
  }

  /** Cache failures become storage errors: this data has no other home. */
  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof ValueTooLargeError) {
        throw new StorageInputError(
          `collection ${this.collection} is too large for the cache (${error.size} bytes)`,
          { cause: error },
        );
      }
      if (isCacheError(error)) {
        throw new StorageUnavailableError(
          `collection ${this.collection} is kept only in the cache, which is unavailable`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** The entry, or undefined when the collection does not exist. Throws cache errors. */
  async read(userId: UserId): Promise<CollectionData | undefined> {
    return this.deps.cache.get(this.key(userId), isCollectionData);
  }

  private async existing(userId: UserId): Promise<CollectionData> {
    const data = await this.read(userId);
    if (!data) throw new CollectionNotFoundError(this.collection);
    return data;
  }

  /** The write timestamp (see the file comment). */
  private nextTs(userId: UserId, current: CollectionData | undefined, base?: WriteBase): number {
    const held = heldLock(this.deps.ctx, userId, this.collection);
    if (held?.mode === 'write' && held.writeTs !== undefined) return held.writeTs;
    const ts = Math.max(
      nowMs(this.deps.clock),
      (current?.modified ?? 0) + 10,
      (base?.storageTs ?? 0) + 10,
    );
    if (held?.mode === 'write') held.writeTs = ts;
    return ts;
  }

  /**
   * Read-modify-write of the entry by CAS, retried a few times; the change
   * returns the new entry (or undefined for no write) and a result.
   */
  private async update<T>(
    userId: UserId,
    change: (current: CollectionData | undefined) => { data?: CollectionData; result: T },
  ): Promise<T> {
    let outcome: { result: T } | undefined;
    const stored = await casUpdate(
      this.deps.cache.json(isCollectionData),
      this.key(userId),
      (current) => {
        const { data, result } = change(current);
        outcome = { result };
        return { next: data, ttl: 0 };
      },
      CAS_OPTIONS,
    );
    if (!stored || !outcome) {
      throw new ConflictError(`concurrent writes to ${this.collection}; retry`);
    }
    return outcome.result;
  }

  getTimestamp(userId: UserId): Promise<number> {
    return this.guard(async () => (await this.existing(userId)).modified);
  }

  getItems(userId: UserId, options: FindOptions): Promise<FindResult<Bso>> {
    return this.guard(async () =>
      findItems((await this.existing(userId)).items, options, this.nowSeconds()),
    );
  }

  getItem(userId: UserId, id: string): Promise<Bso> {
    return this.guard(async () => {
      const data = await this.existing(userId);
      const bso = ownItem(data.items, id);
      if (!bso || isExpired(bso, this.nowSeconds())) throw new ItemNotFoundError(id);
      return bso;
    });
  }

  setItems(userId: UserId, items: readonly BsoInput[], base?: WriteBase): Promise<number> {
    return this.guard(() =>
      this.update(userId, (current) => {
        const ts = this.nextTs(userId, current, base);
        return { data: applySet(current, items, ts, this.nowSeconds()).data, result: ts };
      }),
    );
  }

  setItem(
    userId: UserId,
    id: string,
    data: Omit<BsoInput, 'id'>,
    base?: WriteBase,
  ): Promise<SetItemResult> {
    return this.guard(() =>
      this.update(userId, (current) => {
        const ts = this.nextTs(userId, current, base);
        const applied = applySet(current, [{ ...data, id }], ts, this.nowSeconds());
        return {
          data: applied.data,
          result: { created: applied.created.length === 1, modified: ts },
        };
      }),
    );
  }

  deleteCollection(userId: UserId, base?: WriteBase): Promise<number> {
    return this.guard(async () => {
      const current = await this.read(userId);
      if (!current) throw new CollectionNotFoundError(this.collection);
      const ts = this.nextTs(userId, current, base);
      await this.deps.cache.delete(this.key(userId));
      await this.deps.cache.delete(this.batchesKey(userId));
      return ts;
    });
  }

  deleteItems(userId: UserId, ids: readonly string[], base?: WriteBase): Promise<number> {
    return this.guard(() =>
      this.update(userId, (current) => {
        if (!current) throw new CollectionNotFoundError(this.collection);
        const ts = this.nextTs(userId, current, base);
        return { data: applyDelete(current, ids, ts).data, result: ts };
      }),
    );
  }

  deleteItem(userId: UserId, id: string, base?: WriteBase): Promise<number> {
    return this.guard(() =>
      this.update(userId, (current) => {
        const bso = current && ownItem(current.items, id);
        if (!current || !bso || isExpired(bso, this.nowSeconds())) throw new ItemNotFoundError(id);
        const ts = this.nextTs(userId, current, base);
        return { data: applyDelete(current, [id], ts).data, result: ts };
      }),
    );
  }

  // --- Batches, kept in one entry per collection (seed 000).

  /** Batches still alive; expired ones are dropped from the copy returned. */
  private async batches(userId: UserId): Promise<{ live: Batches; cas?: bigint }> {
    const hit = await this.deps.cache.gets(this.batchesKey(userId), isBatches);
    return { live: this.live(hit?.value ?? undefined), cas: hit?.cas };
  }

  /** The batches of a stored record that have not expired. */
  private live(stored: Batches | undefined): Batches {
    const live: Batches = Object.create(null) as Batches;
    const now = this.deps.clock();
    for (const [id, batch] of Object.entries(stored ?? {})) {
      if (batch.created + BATCH_LIFETIME_MS > now) live[id] = batch;
    }
    return live;
  }

  private async storeBatches(userId: UserId, live: Batches, cas?: bigint): Promise<void> {
    const key = this.batchesKey(userId);
    // The entry outlives its newest batch by a little, then memcached drops it.
    const ttl = Math.ceil(BATCH_LIFETIME_MS / 1000) + 60;
    const stored =
      cas === undefined
        ? await this.deps.cache.add(key, live, ttl)
        : await this.deps.cache.cas(key, live, cas, ttl);
    if (!stored) throw new ConflictError(`concurrent batch update on ${this.collection}; retry`);
  }

  createBatch(userId: UserId): Promise<string> {
    return this.guard(async () => {
      const { live, cas } = await this.batches(userId);
      // Digits only, like the database's batch ids: a millisecond time and a random tail.
      let id: string;
      do id = `${this.deps.clock()}${String(randomInt(1000)).padStart(3, '0')}`;
      while (Object.hasOwn(live, id));
      live[id] = { created: this.deps.clock(), items: [] };
      await this.storeBatches(userId, live, cas);
      return id;
    });
  }

  validBatch(userId: UserId, batchId: string): Promise<boolean> {
    return this.guard(async () => Object.hasOwn((await this.batches(userId)).live, batchId));
  }

  appendItemsToBatch(userId: UserId, batchId: string, items: readonly BsoInput[]): Promise<number> {
    return this.guard(async () => {
      const { live, cas } = await this.batches(userId);
      const batch = Object.hasOwn(live, batchId) ? live[batchId] : undefined;
      if (!batch) throw new InvalidBatchError(batchId);
      live[batchId] = { created: batch.created, items: [...batch.items, ...items] };
      await this.storeBatches(userId, live, cas);
      return nowMs(this.deps.clock);
    });
  }

  applyBatch(userId: UserId, batchId: string, base?: WriteBase): Promise<number> {
    return this.guard(async () => {
      const { live } = await this.batches(userId);
      const batch = Object.hasOwn(live, batchId) ? live[batchId] : undefined;
      if (!batch) throw new InvalidBatchError(batchId);
      return this.update(userId, (current) => {
        const ts = this.nextTs(userId, current, base);
        return { data: applySet(current, batch.items, ts, this.nowSeconds()).data, result: ts };
      });
    });
  }

  closeBatch(userId: UserId, batchId: string): Promise<void> {
    return this.guard(async () => {
      const ttl = Math.ceil(BATCH_LIFETIME_MS / 1000) + 60;
      const closed = await casUpdate(
        this.deps.cache.json(isBatches),
        this.batchesKey(userId),
        (stored) => {
          const live = this.live(stored);
          if (!Object.hasOwn(live, batchId)) return { next: undefined, ttl };
          delete live[batchId];
          return { next: live, ttl };
        },
        CAS_OPTIONS,
      );
      if (!closed) throw new ConflictError(`concurrent batch update on ${this.collection}; retry`);
    });
  }

  /** Count and payload bytes of the live items (for info/collection_counts and quotas). */
  async usage(userId: UserId): Promise<{ count: number; size: number } | undefined> {
    const data = await this.read(userId);
    if (!data) return undefined;
    const now = this.nowSeconds();
    let count = 0;
    let size = 0;
    for (const bso of Object.values(data.items)) {
      if (isExpired(bso, now)) continue;
      count++;
      size += Buffer.byteLength(bso.payload);
    }
    return { count, size };
  }
}
