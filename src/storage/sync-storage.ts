/**
 * The `SyncStorage` interface: what the HTTP layer needs from storage, with
 * the operations of the seed `SQLStorage`. Implemented by the SQL backend
 * (`storage/sql/`) and by the memcached layer over any backend
 * (`storage/cached/`); one conformance suite (`test/storage/conformance.ts`)
 * runs against every implementation.
 *
 * Timestamps are integer milliseconds, always multiples of 10 (the wire's
 * two decimals of a second). Per user they only increase.
 *
 * Every method may throw `StorageUnavailableError` when a dependency is down.
 */

/** A user id, as in the token and the URL: a positive integer. */
export type UserId = number;

/** A Basic Storage Object as stored and returned. */
export interface Bso {
  id: string;
  /** Last-modified time, ms (multiple of 10). */
  modified: number;
  payload: string;
  sortindex: number | null;
  /**
   * Absolute expiry time in **seconds** since the epoch, as the SQL layout keeps it
   * (`bso.ttl`); the HTTP layer never shows it. Very large for "never".
   */
  expiry: number;
}

/**
 * A BSO as written by a client. Fields not given are kept on update
 * (a ttl-only or sortindex-only PUT works); `ttl` is seconds from the write
 * (or from the batch commit) and `null` means "never expires".
 */
export interface BsoInput {
  id: string;
  payload?: string;
  sortindex?: number | null;
  ttl?: number | null;
}

export type SortOrder = 'newest' | 'oldest' | 'index';

export interface FindOptions {
  /** Only items modified strictly after this time (ms). */
  newer?: number;
  /** Only items modified strictly before this time (ms). */
  older?: number;
  /** Only these ids (at most 100 on the wire). */
  ids?: readonly string[];
  /** Default: no particular order (implementations may use `newest`). */
  sort?: SortOrder;
  /** At most this many items; `nextOffset` is set when more remain. */
  limit?: number;
  /** A `nextOffset` from an earlier page of the same query. */
  offset?: string;
}

export interface FindResult<T> {
  items: T[];
  /** Opaque token for the next page (`bound:offset`, or a number for `sort=index`), or null. */
  nextOffset: string | null;
}

export interface SetItemResult {
  created: boolean;
  modified: number;
}

export interface PurgeOptions {
  /** Keep expired rows this many seconds past expiry. Default 0. */
  gracePeriod?: number;
  /** Rows deleted per statement. Default 1000. */
  maxPerLoop?: number;
  /** Called after each statement, for progress output. */
  onProgress?: (progress: PurgeProgress) => void;
}

/** Progress of a purge: the totals so far, the phase running, and how much of it is left. */
export interface PurgeProgress extends PurgeResult {
  phase: 'items' | 'batches' | 'batch items';
  /** Expired rows of this phase not purged yet (counted when it began); null when unknown. */
  remaining: number | null;
}

export interface PurgeResult {
  bsoRowsPurged: number;
  batchesPurged: number;
  batchItemsPurged: number;
  /** False when the run stopped early (e.g. a cap on rounds); run it again. */
  isComplete: boolean;
}

/** What info/collections answers: the storage timestamp and the collection map. */
export interface UserTimestamps {
  /** Max over collection timestamps, deleted collections included; 0 for a user with no data. */
  storage: number;
  /** collection name → last-modified ms. */
  collections: Record<string, number>;
}

export interface SyncStorage {
  // --- Locks. `fn` gets `tx`: this storage bound to the lock. Every call
  // made through `tx` runs in the lock's transaction, at the lock's single
  // write timestamp, and a lock taken through `tx` is re-entrant. Calls on
  // the outer storage inside `fn` do not join the lock: they run as any
  // other caller's would (a write would wait for this lock to end). `tx`
  // is passed explicitly, as kysely passes its transaction, rather than
  // found through AsyncLocalStorage, whose hooks would tax every promise of
  // the process on Node 20.

  /** Run `fn` holding a shared lock on the collection (re-entrant through `tx`). */
  withReadLock<T>(
    userId: UserId,
    collection: string,
    fn: (tx: SyncStorage) => Promise<T>,
  ): Promise<T>;

  /**
   * Run `fn` holding an exclusive lock on the collection (re-entrant through
   * `tx`). Writes through `tx` share one timestamp, greater than the
   * collection's current one. Throws `ConflictError` if the lock cannot be
   * had in time. Taking a write lock (or writing) inside a read lock is a
   * `LockEscalationError`.
   */
  withWriteLock<T>(
    userId: UserId,
    collection: string,
    fn: (tx: SyncStorage) => Promise<T>,
  ): Promise<T>;

  // --- The whole storage of a user.

  /** Max over collection timestamps; 0 for a user with no data. */
  getStorageTimestamp(userId: UserId): Promise<number>;
  /** collection name → last-modified ms. */
  getCollectionTimestamps(userId: UserId): Promise<Record<string, number>>;
  /**
   * Both of the above from one snapshot, in one read. Read apart, a write
   * landing between them can give a map newer than its storage timestamp
   * (an X-Last-Modified older than the body it is sent with).
   */
  getTimestamps(userId: UserId): Promise<UserTimestamps>;
  /** collection name → number of unexpired items. */
  getCollectionCounts(userId: UserId): Promise<Record<string, number>>;
  /** collection name → bytes of unexpired payloads. */
  getCollectionSizes(userId: UserId): Promise<Record<string, number>>;
  /**
   * Bytes of the user's payloads. Without `recalculate`, a running total
   * that may still count expired items until they are purged (or a cached
   * figure); with it, exactly the unexpired ones.
   */
  getTotalSize(userId: UserId, recalculate?: boolean): Promise<number>;
  /** Remove everything of the user. */
  deleteStorage(userId: UserId): Promise<void>;

  // --- One collection.

  /** Throws `CollectionNotFoundError`. */
  getCollectionTimestamp(userId: UserId, collection: string): Promise<number>;
  /** Throws `CollectionNotFoundError` if the collection does not exist, `InvalidOffsetError`. */
  getItems(userId: UserId, collection: string, options?: FindOptions): Promise<FindResult<Bso>>;
  /** As `getItems`, ids only. */
  getItemIds(
    userId: UserId,
    collection: string,
    options?: FindOptions,
  ): Promise<FindResult<string>>;
  /** Create or update items; returns the new collection timestamp. */
  setItems(userId: UserId, collection: string, items: readonly BsoInput[]): Promise<number>;
  /**
   * Throws `CollectionNotFoundError`; returns the new storage timestamp, which
   * is later than every earlier one (the storage timestamp never goes back).
   */
  deleteCollection(userId: UserId, collection: string): Promise<number>;
  /** Delete some items; returns the new collection timestamp. Throws `CollectionNotFoundError`. */
  deleteItems(userId: UserId, collection: string, ids: readonly string[]): Promise<number>;

  // --- One item.

  /** Throws `ItemNotFoundError` (also when expired, or when the user has no such collection). */
  getItemTimestamp(userId: UserId, collection: string, id: string): Promise<number>;
  /** Throws `ItemNotFoundError`, `CollectionNotFoundError`. */
  getItem(userId: UserId, collection: string, id: string): Promise<Bso>;
  /** Create or update one item; `data.id` is ignored in favour of `id`. */
  setItem(
    userId: UserId,
    collection: string,
    id: string,
    data: Omit<BsoInput, 'id'>,
  ): Promise<SetItemResult>;
  /** Throws `ItemNotFoundError` (also for a collection the user lacks); returns the new collection timestamp. */
  deleteItem(userId: UserId, collection: string, id: string): Promise<number>;

  // --- Batches (API 1.5 `?batch=`). Ids are opaque strings.

  createBatch(userId: UserId, collection: string): Promise<string>;
  /** False for unknown, expired (2 h), closed, or another user's / collection's batch. */
  validBatch(userId: UserId, collection: string, batchId: string): Promise<boolean>;
  /** Throws `InvalidBatchError`. Items stay invisible until `applyBatch`. */
  appendItemsToBatch(
    userId: UserId,
    collection: string,
    batchId: string,
    items: readonly BsoInput[],
  ): Promise<number>;
  /**
   * Apply atomically at one timestamp (ttl counts from it); returns it. Throws
   * `InvalidBatchError`. The batch stays open: call `closeBatch` after.
   */
  applyBatch(userId: UserId, collection: string, batchId: string): Promise<number>;
  /** Forget the batch and its items. */
  closeBatch(userId: UserId, collection: string, batchId: string): Promise<void>;

  // --- Per-user quota (the operator's; the server applies it when quotas are on).

  /** The user's own quota in bytes, or null when the global one applies. */
  getUserQuota(userId: UserId): Promise<number | null>;
  /** Set (bytes ≥ 0) or clear (null) the user's own quota. Throws `StorageInputError`. */
  setUserQuota(userId: UserId, bytes: number | null): Promise<void>;

  // --- Maintenance.

  /** Incremental purge of expired rows, bounded per statement, no long transaction. */
  purgeExpiredItems(options?: PurgeOptions): Promise<PurgeResult>;
  /** Whether the backing stores answer (for `/__heartbeat__`); never throws. */
  healthCheck(): Promise<{ database: boolean; cache?: boolean }>;
  /** Release connections. */
  close(): Promise<void>;
}
