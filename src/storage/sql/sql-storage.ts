/**
 * `SqlStorage`: the SyncStorage of the seed's `SQLStorage`, over any
 * `SqlDriver` (SQLite, PostgreSQL).
 *
 * Sessions. `withReadLock` / `withWriteLock` open a session (one connection,
 * one transaction, one write timestamp) kept in an AsyncLocalStorage of this
 * instance; every method called inside joins it, and nested locks are
 * re-entrant. Methods called outside any lock run in a short session of
 * their own: writes lock their collection, reads run as plain statements.
 *
 * Timestamps. A write session's timestamp is the current time, bumped to
 * 10 ms past the collection's and the storage's current timestamps when the
 * write lock finds them at or ahead of it. The seed raised `ConflictError`
 * there; a write must never fail merely because another write fell in the
 * same 10 ms.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  CollectionNotFoundError,
  ConflictError,
  InvalidBatchError,
  ItemNotFoundError,
  LockEscalationError,
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
} from '../sync-storage.js';
import { nowMs } from '../timestamps.js';
import { batchItemUpserts, bsoUpserts, mergeDuplicateIds } from './bso-upsert.js';
import { CollectionRegistry } from './collection-registry.js';
import { purgeExpired } from './expired-purge.js';
import {
  checkBsoFields,
  checkBsoInputs,
  checkCollection,
  checkFindOptions,
  checkIds,
  checkItemId,
  checkUserId,
  type CheckedFind,
} from './input-checks.js';
import { decodeOffset, encodeNextOffset, type PagePosition } from './paging-token.js';
import { MAX_TTL, migrateSchema, ShardLayout, type TableNames } from './sql-schema.js';
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-types.js';
import { STANDARD_COLLECTIONS } from './standard-collections.js';

/** Batches live two hours (API 1.5; the seed's BATCH_LIFETIME). */
export const BATCH_LIFETIME_SECONDS = 2 * 60 * 60;
/** `user_collections` row of collection id 0: the time of the last collection deletion. */
const TOMBSTONE_COLLECTION = 0;
const BATCH_ID = /^[1-9]\d{0,15}$/;

export interface SqlStorageOptions {
  driver: SqlDriver;
  /** Spread bso / batch_upload_items over N tables by `userid % N`. Default 0 (no sharding). */
  shards?: number;
  /** How long to wait for a collection's write lock before `ConflictError`. Default 5000 ms. */
  lockTimeoutMs?: number;
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  clock?: () => number;
}

type LockMode = 'read' | 'write';

interface Session {
  readonly executor: SqlExecutor;
  readonly mode: LockMode;
  /** False for the lock-free session of a plain read outside any lock. */
  readonly transactional: boolean;
  timestamp: number;
  readonly locks: Map<string, LockMode>;
  /** Set once a row was written: the timestamp may no longer move. */
  wrote: boolean;
  /** PostgreSQL: `user_collections` rows inserted only to lock them. */
  readonly placeholders: Set<string>;
  readonly touched: Set<string>;
  readonly createdCollections: string[];
}

interface BsoRow {
  id: string;
  modified: number;
  payload?: string;
  sortindex?: number | null;
  ttl?: number;
}

function lockKey(userId: number, collectionId: number): string {
  return `${userId}:${collectionId}`;
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

export class SqlStorage implements SyncStorage {
  readonly #driver: SqlDriver;
  readonly #layout: ShardLayout;
  readonly #lockTimeoutMs: number;
  readonly #clock: () => number;
  readonly #collections = new CollectionRegistry();
  readonly #sessions = new AsyncLocalStorage<Session>();

  constructor(options: SqlStorageOptions) {
    this.#driver = options.driver;
    this.#layout = new ShardLayout(options.shards ?? 0);
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 5000;
    this.#clock = options.clock ?? Date.now;
  }

  /** Create or migrate the schema; idempotent. Call once before use. */
  async migrate(): Promise<void> {
    const lease = await this.#driver.acquireWrite(60_000);
    const { executor } = lease;
    try {
      await executor.run(this.#driver.dialect.beginWrite);
      try {
        const lock = this.#driver.dialect.migrationLock;
        if (lock) await executor.run(lock);
        await migrateSchema(
          executor,
          this.#driver.dialect.name,
          this.#layout,
          STANDARD_COLLECTIONS,
        );
        await executor.run('COMMIT');
      } catch (error) {
        await executor.run('ROLLBACK').catch(() => undefined);
        throw error;
      }
    } catch (error) {
      throw this.#driver.translateError(error);
    } finally {
      lease.release();
    }
  }

  // --- Sessions and locks -------------------------------------------------

  async withReadLock<T>(userId: UserId, collection: string, fn: () => Promise<T>): Promise<T> {
    checkUserId(userId);
    checkCollection(collection);
    const current = this.#sessions.getStore();
    if (current) {
      const collectionId = (await this.#collections.lookup(current.executor, collection)) ?? 0;
      const key = lockKey(userId, collectionId);
      if (current.locks.has(key)) return fn();
      await this.#lockRow(current, userId, collectionId, 'read');
      current.locks.set(key, 'read');
      try {
        return await fn();
      } finally {
        current.locks.delete(key);
      }
    }
    return this.#transaction('read', async (session) => {
      // A collection that does not exist yet locks nothing, and stays absent
      // for this session (the seed did the same with id 0).
      const collectionId = (await this.#collections.lookup(session.executor, collection)) ?? 0;
      await this.#lockRow(session, userId, collectionId, 'read');
      session.locks.set(lockKey(userId, collectionId), 'read');
      return fn();
    });
  }

  async withWriteLock<T>(userId: UserId, collection: string, fn: () => Promise<T>): Promise<T> {
    checkUserId(userId);
    checkCollection(collection);
    const current = this.#sessions.getStore();
    if (current) {
      if (current.mode === 'read') {
        throw new LockEscalationError(
          `cannot write ${collection} inside a read lock; take the write lock first`,
        );
      }
      const collectionId = await this.#collectionIdForWrite(current, collection);
      await this.#lockForWrite(current, userId, collectionId);
      return fn();
    }
    return this.#transaction(
      'write',
      async (session) => {
        const collectionId = await this.#collectionIdForWrite(session, collection);
        await this.#lockForWrite(session, userId, collectionId);
        return fn();
      },
      // Collection names are global and harmless to keep: create the name
      // before the transaction so a rollback cannot leave a stale cache entry.
      async (executor) => {
        await this.#collections.lookupOrCreate(executor, collection);
      },
    );
  }

  /** The current session, or a short one of its own for `fn`. */
  async #inSession<T>(mode: LockMode, fn: (session: Session) => Promise<T>): Promise<T> {
    const current = this.#sessions.getStore();
    if (current) {
      if (mode === 'write' && current.mode === 'read') {
        throw new LockEscalationError('cannot write inside a read lock; take the write lock first');
      }
      return fn(current);
    }
    if (mode === 'write') return this.#transaction('write', fn);
    const lease = await this.#acquire('read');
    const session = this.#newSession(lease.executor, 'read', false);
    try {
      return await this.#sessions.run(session, () => fn(session));
    } catch (error) {
      throw this.#driver.translateError(error);
    } finally {
      lease.release();
    }
  }

  async #acquire(mode: LockMode) {
    try {
      return mode === 'write'
        ? await this.#driver.acquireWrite(this.#lockTimeoutMs)
        : await this.#driver.acquireRead();
    } catch (error) {
      throw this.#driver.translateError(error);
    }
  }

  #newSession(executor: SqlExecutor, mode: LockMode, transactional: boolean): Session {
    return {
      executor,
      mode,
      transactional,
      timestamp: nowMs(this.#clock),
      locks: new Map(),
      wrote: false,
      placeholders: new Set(),
      touched: new Set(),
      createdCollections: [],
    };
  }

  async #transaction<T>(
    mode: LockMode,
    fn: (session: Session) => Promise<T>,
    beforeBegin?: (executor: SqlExecutor) => Promise<void>,
  ): Promise<T> {
    const lease = await this.#acquire(mode);
    const { executor } = lease;
    let discard = false;
    try {
      if (beforeBegin) await beforeBegin(executor);
      const { dialect } = this.#driver;
      await executor.run(mode === 'write' ? dialect.beginWrite : dialect.beginRead);
      const session = this.#newSession(executor, mode, true);
      try {
        const result = await this.#sessions.run(session, () => fn(session));
        await this.#dropPlaceholders(session);
        await executor.run('COMMIT');
        return result;
      } catch (error) {
        await executor.run('ROLLBACK').catch(() => {
          discard = true;
        });
        for (const name of session.createdCollections) this.#collections.forget(name);
        throw error;
      }
    } catch (error) {
      throw this.#driver.translateError(error);
    } finally {
      lease.release(discard);
    }
  }

  /** Take the row lock of a collection (PostgreSQL) or pin the snapshot (SQLite). */
  async #lockRow(
    session: Session,
    userId: number,
    collectionId: number,
    mode: LockMode,
  ): Promise<number> {
    const { dialect } = this.#driver;
    if (mode === 'read' && !dialect.forShare && !dialect.readNeedsSnapshotQuery) return 0;
    const row = await session.executor.get<{ last_modified: number }>(
      `SELECT last_modified FROM user_collections WHERE userid = ? AND collection = ? ${
        mode === 'read' ? dialect.forShare : dialect.forUpdate
      }`,
      [userId, collectionId],
    );
    return row ? Number(row.last_modified) : 0;
  }

  async #collectionIdForWrite(session: Session, name: string): Promise<number> {
    const { id, created } = await this.#collections.lookupOrCreate(session.executor, name);
    if (created && session.transactional) session.createdCollections.push(name);
    return id;
  }

  async #lockForWrite(session: Session, userId: number, collectionId: number): Promise<void> {
    const key = lockKey(userId, collectionId);
    const held = session.locks.get(key);
    if (held === 'write') return;
    if (held === 'read') {
      throw new LockEscalationError("can't escalate a read lock to a write lock");
    }
    let row = await this.#lockForWriteRow(session, userId, collectionId);
    if (!row && this.#driver.dialect.forUpdate) {
      // PostgreSQL locks rows, so the row must exist: insert a placeholder
      // (last_modified 0, which reads as "no collection") and remove it
      // before commit if nothing was written.
      const inserted = await session.executor.run(
        'INSERT INTO user_collections (userid, collection, last_modified) VALUES (?, ?, 0) ON CONFLICT DO NOTHING',
        [userId, collectionId],
      );
      if (inserted > 0) session.placeholders.add(key);
      row = await this.#lockForWriteRow(session, userId, collectionId);
    }
    const current = Number(row?.last_modified ?? 0);
    const storageTs = Number(row?.storage_ts ?? 0);
    if (session.wrote) {
      // Rows already carry the session's timestamp, so it cannot move now;
      // it only has to be newer than this collection (the storage maximum
      // includes our own writes).
      if (current >= session.timestamp) {
        throw new ConflictError('collection changed during the write session; retry');
      }
    } else {
      const latest = Math.max(current, storageTs);
      if (latest >= session.timestamp) session.timestamp = latest + 10;
    }
    session.locks.set(key, 'write');
  }

  /**
   * Lock the collection's row for writing and read its timestamp and the
   * storage's in one round trip. On SQLite there is no row to lock (BEGIN
   * IMMEDIATE holds the whole database), so a missing row still answers.
   */
  async #lockForWriteRow(
    session: Session,
    userId: number,
    collectionId: number,
  ): Promise<{ last_modified: number; storage_ts: number | null } | undefined> {
    const { forUpdate } = this.#driver.dialect;
    if (forUpdate) {
      return session.executor.get(
        `SELECT last_modified,
           (SELECT MAX(last_modified) FROM user_collections WHERE userid = ?) AS storage_ts
         FROM user_collections WHERE userid = ? AND collection = ? ${forUpdate}`,
        [userId, userId, collectionId],
      );
    }
    return session.executor.get(
      `SELECT COALESCE((SELECT last_modified FROM user_collections WHERE userid = ? AND collection = ?), 0) AS last_modified,
         (SELECT MAX(last_modified) FROM user_collections WHERE userid = ?) AS storage_ts`,
      [userId, collectionId, userId],
    );
  }

  async #dropPlaceholders(session: Session): Promise<void> {
    for (const key of session.placeholders) {
      if (session.touched.has(key)) continue;
      const [userId, collectionId] = key.split(':').map(Number) as [number, number];
      await session.executor.run(
        'DELETE FROM user_collections WHERE userid = ? AND collection = ? AND last_modified = 0',
        [userId, collectionId],
      );
    }
  }

  async #touch(session: Session, userId: number, collectionId: number): Promise<number> {
    await session.executor.run(
      `INSERT INTO user_collections (userid, collection, last_modified) VALUES (?, ?, ?)
       ON CONFLICT (userid, collection) DO UPDATE SET last_modified = excluded.last_modified`,
      [userId, collectionId, session.timestamp],
    );
    session.wrote = true;
    session.touched.add(lockKey(userId, collectionId));
    return session.timestamp;
  }

  #tables(userId: number): TableNames {
    return this.#layout.forUser(userId);
  }

  #nowSeconds(session: Session): number {
    return Math.floor(session.timestamp / 1000);
  }

  /** The user's own collection timestamp, or undefined when the user has no such collection. */
  async #userCollectionTimestamp(
    session: Session,
    userId: number,
    collectionId: number,
  ): Promise<number | undefined> {
    const row = await session.executor.get<{ last_modified: number }>(
      'SELECT last_modified FROM user_collections WHERE userid = ? AND collection = ?',
      [userId, collectionId],
    );
    const ts = row ? Number(row.last_modified) : 0;
    return ts > 0 ? ts : undefined;
  }

  // --- The whole storage of a user ------------------------------------------

  async getStorageTimestamp(userId: UserId): Promise<number> {
    checkUserId(userId);
    return this.#inSession('read', async ({ executor }) => {
      const row = await executor.get<{ ts: number | null }>(
        'SELECT MAX(last_modified) AS ts FROM user_collections WHERE userid = ?',
        [userId],
      );
      return Number(row?.ts ?? 0);
    });
  }

  async getCollectionTimestamps(userId: UserId): Promise<Record<string, number>> {
    checkUserId(userId);
    return this.#inSession('read', async ({ executor }) => {
      const rows = await executor.all<{ collection: number; last_modified: number }>(
        'SELECT collection, last_modified FROM user_collections WHERE userid = ? AND collection <> ? AND last_modified > 0',
        [userId, TOMBSTONE_COLLECTION],
      );
      return this.#byName(
        executor,
        rows.map((r) => [Number(r.collection), Number(r.last_modified)]),
      );
    });
  }

  async getCollectionCounts(userId: UserId): Promise<Record<string, number>> {
    return this.#perCollection(userId, 'COUNT(*)');
  }

  async getCollectionSizes(userId: UserId): Promise<Record<string, number>> {
    return this.#perCollection(userId, 'SUM(payload_size)');
  }

  async #perCollection(userId: UserId, aggregate: string): Promise<Record<string, number>> {
    checkUserId(userId);
    return this.#inSession('read', async (session) => {
      const rows = await session.executor.all<{ collection: number; n: number }>(
        `SELECT collection, ${aggregate} AS n FROM ${this.#tables(userId).bso}
         WHERE userid = ? AND ttl > ? GROUP BY collection`,
        [userId, this.#nowSeconds(session)],
      );
      return this.#byName(
        session.executor,
        rows.map((r) => [Number(r.collection), Number(r.n)]),
      );
    });
  }

  async #byName(
    executor: SqlExecutor,
    pairs: Array<[number, number]>,
  ): Promise<Record<string, number>> {
    const names = await this.#collections.names(
      executor,
      pairs.map(([id]) => id),
    );
    const result: Record<string, number> = {};
    for (const [id, value] of pairs) {
      const name = names.get(id);
      // An id without a name would be a damaged database; leave it out rather than fail.
      if (name !== undefined) result[name] = value;
    }
    return result;
  }

  async getTotalSize(userId: UserId, _recalculate?: boolean): Promise<number> {
    checkUserId(userId);
    return this.#inSession('read', async (session) => {
      const row = await session.executor.get<{ n: number | null }>(
        `SELECT SUM(payload_size) AS n FROM ${this.#tables(userId).bso} WHERE userid = ? AND ttl > ?`,
        [userId, this.#nowSeconds(session)],
      );
      return Number(row?.n ?? 0);
    });
  }

  async deleteStorage(userId: UserId): Promise<void> {
    checkUserId(userId);
    await this.#inSession('write', async (session) => {
      const { executor } = session;
      const { bso, batchItems } = this.#tables(userId);
      if (this.#driver.dialect.forUpdate) {
        await executor.all(
          `SELECT collection FROM user_collections WHERE userid = ? ${this.#driver.dialect.forUpdate}`,
          [userId],
        );
      }
      await executor.run(`DELETE FROM ${bso} WHERE userid = ?`, [userId]);
      await executor.run(`DELETE FROM ${batchItems} WHERE userid = ?`, [userId]);
      await executor.run('DELETE FROM batch_uploads WHERE userid = ?', [userId]);
      await executor.run('DELETE FROM user_collections WHERE userid = ?', [userId]);
      session.wrote = true;
      // Rows we locked are gone; nothing is left to clean up at commit.
      for (const key of session.placeholders) {
        if (key.startsWith(`${userId}:`)) session.placeholders.delete(key);
      }
    });
  }

  // --- One collection ------------------------------------------------------------

  async getCollectionTimestamp(userId: UserId, collection: string): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    return this.#inSession('read', async (session) => {
      const collectionId = await this.#collections.lookup(session.executor, collection);
      const ts =
        collectionId === undefined
          ? undefined
          : await this.#userCollectionTimestamp(session, userId, collectionId);
      if (ts === undefined) throw new CollectionNotFoundError(collection);
      return ts;
    });
  }

  async getItems(
    userId: UserId,
    collection: string,
    options?: FindOptions,
  ): Promise<FindResult<Bso>> {
    const { rows, nextOffset } = await this.#find(userId, collection, options, true);
    return {
      items: rows.map((row) => ({
        id: row.id,
        modified: Number(row.modified),
        payload: row.payload ?? '',
        sortindex:
          row.sortindex === null || row.sortindex === undefined ? null : Number(row.sortindex),
        expiry: Number(row.ttl ?? MAX_TTL),
      })),
      nextOffset,
    };
  }

  async getItemIds(
    userId: UserId,
    collection: string,
    options?: FindOptions,
  ): Promise<FindResult<string>> {
    const { rows, nextOffset } = await this.#find(userId, collection, options, false);
    return { items: rows.map((row) => row.id), nextOffset };
  }

  async #find(
    userId: UserId,
    collection: string,
    options: FindOptions | undefined,
    full: boolean,
  ): Promise<{ rows: BsoRow[]; nextOffset: string | null }> {
    checkUserId(userId);
    checkCollection(collection);
    const find = checkFindOptions(options);
    const position =
      find.offset === undefined ? undefined : decodeOffset(find.offset, find.sort, find);
    return this.#inSession('read', async (session) => {
      const collectionId = await this.#collections.lookup(session.executor, collection);
      if (collectionId === undefined) throw new CollectionNotFoundError(collection);
      const { sql, params } = this.#findQuery(userId, collectionId, find, position, full, session);
      const rows = await session.executor.all<BsoRow & Record<string, unknown>>(sql, params);
      if (rows.length === 0) {
        // Empty, or no such collection? Only the latter is an error.
        if ((await this.#userCollectionTimestamp(session, userId, collectionId)) === undefined) {
          throw new CollectionNotFoundError(collection);
        }
      }
      for (const row of rows) row.modified = Number(row.modified);
      let nextOffset: string | null = null;
      if (find.limit !== undefined && rows.length > find.limit) {
        const lookahead = rows[find.limit]!;
        rows.length = find.limit;
        nextOffset = encodeNextOffset(find.sort, position, rows, lookahead);
      }
      return { rows, nextOffset };
    });
  }

  #findQuery(
    userId: number,
    collectionId: number,
    find: CheckedFind,
    position: PagePosition | undefined,
    full: boolean,
    session: Session,
  ): { sql: string; params: SqlValue[] } {
    const columns = full ? 'id, modified, payload, sortindex, ttl' : 'id, modified, sortindex';
    const where = ['userid = ?', 'collection = ?', 'ttl > ?'];
    const params: SqlValue[] = [userId, collectionId, this.#nowSeconds(session)];
    if (find.ids !== undefined) {
      if (find.ids.length === 0) where.push('1 = 0');
      else {
        where.push(`id IN (${placeholders(find.ids.length)})`);
        params.push(...find.ids);
      }
    }
    if (find.newer !== undefined) {
      where.push('modified > ?');
      params.push(find.newer);
    }
    if (find.older !== undefined) {
      where.push('modified < ?');
      params.push(find.older);
    }
    let skip = 0;
    if (position?.kind === 'time') {
      where.push(find.sort === 'oldest' ? 'modified >= ?' : 'modified <= ?');
      params.push(position.bound);
      skip = position.skip;
    } else if (position?.kind === 'index') {
      skip = position.skip;
    }
    // Always a total order, so that offsets are exact (id breaks ties).
    const order =
      find.sort === 'index'
        ? 'sortindex DESC NULLS LAST, id DESC'
        : find.sort === 'oldest'
          ? 'modified ASC, id ASC'
          : 'modified DESC, id DESC';
    // One row past the limit tells whether another page exists.
    const limit = find.limit === undefined ? 2_147_483_647 : find.limit + 1;
    params.push(limit, skip);
    return {
      sql: `SELECT ${columns} FROM ${this.#tables(userId).bso} WHERE ${where.join(' AND ')}
            ORDER BY ${order} LIMIT ? OFFSET ?`,
      params,
    };
  }

  async setItems(userId: UserId, collection: string, items: readonly BsoInput[]): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    checkBsoInputs(items);
    return this.withWriteLock(userId, collection, () =>
      this.#inSession('write', async (session) => {
        const collectionId = await this.#collectionIdForWrite(session, collection);
        await this.#writeBsos(session, userId, collectionId, mergeDuplicateIds(items));
        return this.#touch(session, userId, collectionId);
      }),
    );
  }

  async #writeBsos(
    session: Session,
    userId: number,
    collectionId: number,
    items: readonly BsoInput[],
  ): Promise<void> {
    if (items.length === 0) return;
    const { bso } = this.#tables(userId);
    for (const statement of bsoUpserts(bso, userId, collectionId, items, session.timestamp)) {
      await session.executor.run(statement.sql, statement.params);
    }
    session.wrote = true;
  }

  async deleteCollection(userId: UserId, collection: string): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    const check = async (session: Session) => {
      const id = await this.#collections.lookup(session.executor, collection);
      if (id === undefined) throw new CollectionNotFoundError(collection);
      return id;
    };
    // Look first, so deleting an unknown name does not create it.
    if (!this.#sessions.getStore()) await this.#inSession('read', check);
    return this.withWriteLock(userId, collection, () =>
      this.#inSession('write', async (session) => {
        const collectionId = await check(session);
        const { executor } = session;
        const { bso, batchItems } = this.#tables(userId);
        const existed = await this.#userCollectionTimestamp(session, userId, collectionId);
        const deleted = await executor.run(
          `DELETE FROM ${bso} WHERE userid = ? AND collection = ?`,
          [userId, collectionId],
        );
        if (existed === undefined && deleted === 0) throw new CollectionNotFoundError(collection);
        await executor.run(
          `DELETE FROM ${batchItems} WHERE userid = ? AND batch IN
             (SELECT batch FROM batch_uploads WHERE userid = ? AND collection = ?)`,
          [userId, userId, collectionId],
        );
        await executor.run('DELETE FROM batch_uploads WHERE userid = ? AND collection = ?', [
          userId,
          collectionId,
        ]);
        await executor.run('DELETE FROM user_collections WHERE userid = ? AND collection = ?', [
          userId,
          collectionId,
        ]);
        session.placeholders.delete(lockKey(userId, collectionId));
        // The storage timestamp must still move forward (it is the max over
        // collections, and this one is gone): a tombstone row keeps it, as
        // syncstorage-rs does.
        return this.#touch(session, userId, TOMBSTONE_COLLECTION);
      }),
    );
  }

  async deleteItems(userId: UserId, collection: string, ids: readonly string[]): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    checkIds(ids);
    if (!this.#sessions.getStore()) {
      await this.#inSession('read', async ({ executor }) => {
        if ((await this.#collections.lookup(executor, collection)) === undefined) {
          throw new CollectionNotFoundError(collection);
        }
      });
    }
    return this.withWriteLock(userId, collection, () =>
      this.#inSession('write', async (session) => {
        const collectionId = await this.#collectionIdForWrite(session, collection);
        // The seed touched (so created) a collection the user did not have.
        if ((await this.#userCollectionTimestamp(session, userId, collectionId)) === undefined) {
          throw new CollectionNotFoundError(collection);
        }
        const { bso } = this.#tables(userId);
        for (let start = 0; start < ids.length; start += 500) {
          const chunk = ids.slice(start, start + 500);
          await session.executor.run(
            `DELETE FROM ${bso} WHERE userid = ? AND collection = ? AND id IN (${placeholders(chunk.length)})`,
            [userId, collectionId, ...chunk],
          );
        }
        return this.#touch(session, userId, collectionId);
      }),
    );
  }

  // --- One item ------------------------------------------------------------------

  async getItemTimestamp(userId: UserId, collection: string, id: string): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    checkItemId(id);
    return this.#inSession('read', async (session) => {
      const collectionId = await this.#collections.lookup(session.executor, collection);
      if (collectionId === undefined) throw new ItemNotFoundError(id);
      const row = await session.executor.get<{ modified: number }>(
        `SELECT modified FROM ${this.#tables(userId).bso}
         WHERE userid = ? AND collection = ? AND id = ? AND ttl > ?`,
        [userId, collectionId, id, this.#nowSeconds(session)],
      );
      if (!row) throw new ItemNotFoundError(id);
      return Number(row.modified);
    });
  }

  async getItem(userId: UserId, collection: string, id: string): Promise<Bso> {
    checkUserId(userId);
    checkCollection(collection);
    checkItemId(id);
    // Through the same query as lists, so expiry and "no such collection" agree.
    const { items } = await this.getItems(userId, collection, { ids: [id] });
    const item = items[0];
    if (!item) throw new ItemNotFoundError(id);
    return item;
  }

  async setItem(
    userId: UserId,
    collection: string,
    id: string,
    data: Omit<BsoInput, 'id'>,
  ): Promise<SetItemResult> {
    checkUserId(userId);
    checkCollection(collection);
    const item: BsoInput = { ...data, id };
    checkBsoFields(item);
    return this.withWriteLock(userId, collection, () =>
      this.#inSession('write', async (session) => {
        const collectionId = await this.#collectionIdForWrite(session, collection);
        const existing = await session.executor.get(
          `SELECT 1 AS found FROM ${this.#tables(userId).bso}
           WHERE userid = ? AND collection = ? AND id = ? AND ttl > ?`,
          [userId, collectionId, id, this.#nowSeconds(session)],
        );
        await this.#writeBsos(session, userId, collectionId, [item]);
        const modified = await this.#touch(session, userId, collectionId);
        return { created: !existing, modified };
      }),
    );
  }

  async deleteItem(userId: UserId, collection: string, id: string): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    checkItemId(id);
    if (!this.#sessions.getStore()) {
      await this.#inSession('read', async ({ executor }) => {
        if ((await this.#collections.lookup(executor, collection)) === undefined) {
          throw new ItemNotFoundError(id);
        }
      });
    }
    return this.withWriteLock(userId, collection, () =>
      this.#inSession('write', async (session) => {
        const collectionId = await this.#collectionIdForWrite(session, collection);
        const deleted = await session.executor.run(
          `DELETE FROM ${this.#tables(userId).bso}
           WHERE userid = ? AND collection = ? AND id = ? AND ttl > ?`,
          [userId, collectionId, id, this.#nowSeconds(session)],
        );
        if (deleted === 0) throw new ItemNotFoundError(id);
        return this.#touch(session, userId, collectionId);
      }),
    );
  }

  // --- Batches -----------------------------------------------------------------------

  async createBatch(userId: UserId, collection: string): Promise<string> {
    checkUserId(userId);
    checkCollection(collection);
    return this.withWriteLock(userId, collection, () =>
      this.#inSession('write', async (session) => {
        const collectionId = await this.#collectionIdForWrite(session, collection);
        // The id is a ms timestamp with the uid's last digit mixed in (the
        // old layout shards batch items by it). Two batches in the same
        // 10 ms move on to the next free slot instead of failing as the seed did.
        let batch = session.timestamp + (userId % 10);
        for (let attempt = 0; attempt < 1000; attempt++, batch += 10) {
          const inserted = await session.executor.run(
            'INSERT INTO batch_uploads (batch, userid, collection) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
            [batch, userId, collectionId],
          );
          if (inserted === 1) return String(batch);
        }
        throw new ConflictError('too many batches created at once; retry');
      }),
    );
  }

  /** The batch number if `batchId` names an open, unexpired batch of this user and collection. */
  async #openBatch(
    session: Session,
    userId: number,
    collection: string,
    batchId: string,
  ): Promise<{ batch: number; collectionId: number } | undefined> {
    if (typeof batchId !== 'string' || !BATCH_ID.test(batchId)) return undefined;
    const batch = Number(batchId);
    if (!Number.isSafeInteger(batch)) return undefined;
    // Ids are creation times: an old one is expired without asking the database.
    if (Math.floor(batch / 1000) + BATCH_LIFETIME_SECONDS < this.#nowSeconds(session)) {
      return undefined;
    }
    const collectionId = await this.#collections.lookup(session.executor, collection);
    if (collectionId === undefined) return undefined;
    const row = await session.executor.get(
      'SELECT 1 AS found FROM batch_uploads WHERE batch = ? AND userid = ? AND collection = ?',
      [batch, userId, collectionId],
    );
    return row ? { batch, collectionId } : undefined;
  }

  async validBatch(userId: UserId, collection: string, batchId: string): Promise<boolean> {
    checkUserId(userId);
    checkCollection(collection);
    return this.#inSession('read', async (session) =>
      Boolean(await this.#openBatch(session, userId, collection, batchId)),
    );
  }

  async appendItemsToBatch(
    userId: UserId,
    collection: string,
    batchId: string,
    items: readonly BsoInput[],
  ): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    checkBsoInputs(items);
    return this.withWriteLock(userId, collection, () =>
      this.#inSession('write', async (session) => {
        const open = await this.#openBatch(session, userId, collection, batchId);
        if (!open) throw new InvalidBatchError(batchId);
        const table = this.#tables(userId).batchItems;
        for (const statement of batchItemUpserts(
          table,
          open.batch,
          userId,
          mergeDuplicateIds(items),
        )) {
          await session.executor.run(statement.sql, statement.params);
        }
        return session.timestamp;
      }),
    );
  }

  async applyBatch(userId: UserId, collection: string, batchId: string): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    return this.withWriteLock(userId, collection, () =>
      this.#inSession('write', async (session) => {
        const open = await this.#openBatch(session, userId, collection, batchId);
        if (!open) throw new InvalidBatchError(batchId);
        await this.#applyBatchItems(session, userId, open.collectionId, open.batch);
        return this.#touch(session, userId, open.collectionId);
      }),
    );
  }

  async #applyBatchItems(
    session: Session,
    userId: number,
    collectionId: number,
    batch: number,
  ): Promise<void> {
    const { executor } = session;
    const { bso, batchItems } = this.#tables(userId);
    const now = this.#nowSeconds(session);
    // ttl counts from the commit; "never" and huge offsets cap at MAX_TTL.
    const expiry = `CASE WHEN b.ttl_offset IS NULL THEN {keep}
      WHEN CAST(? AS BIGINT) + b.ttl_offset > ${MAX_TTL} THEN ${MAX_TTL}
      ELSE CAST(? AS BIGINT) + b.ttl_offset END`;
    await executor.run(
      `DELETE FROM ${bso} WHERE userid = ? AND collection = ? AND ttl <= ? AND id IN
         (SELECT id FROM ${batchItems} WHERE batch = ? AND userid = ?)`,
      [userId, collectionId, now, batch, userId],
    );
    // Existing items: only the fields the batch sent change.
    await executor.run(
      `UPDATE ${bso} SET
         sortindex = COALESCE(b.sortindex, ${bso}.sortindex),
         payload = COALESCE(b.payload, ${bso}.payload),
         payload_size = COALESCE(b.payload_size, ${bso}.payload_size),
         modified = CASE WHEN b.payload IS NULL THEN ${bso}.modified ELSE ? END,
         ttl = ${expiry.replace('{keep}', `${bso}.ttl`)}
       FROM ${batchItems} AS b
       WHERE b.batch = ? AND b.userid = ? AND ${bso}.userid = ? AND ${bso}.collection = ? AND ${bso}.id = b.id`,
      [session.timestamp, now, now, batch, userId, userId, collectionId],
    );
    await executor.run(
      `INSERT INTO ${bso} (userid, collection, id, sortindex, modified, payload, payload_size, ttl)
       SELECT ?, ?, b.id, b.sortindex, ?, COALESCE(b.payload, ''), COALESCE(b.payload_size, 0),
         ${expiry.replace('{keep}', String(MAX_TTL))}
       FROM ${batchItems} AS b
       WHERE b.batch = ? AND b.userid = ? AND NOT EXISTS
         (SELECT 1 FROM ${bso} AS x WHERE x.userid = ? AND x.collection = ? AND x.id = b.id)`,
      [userId, collectionId, session.timestamp, now, now, batch, userId, userId, collectionId],
    );
    session.wrote = true;
  }

  async closeBatch(userId: UserId, collection: string, batchId: string): Promise<void> {
    checkUserId(userId);
    checkCollection(collection);
    if (typeof batchId !== 'string' || !BATCH_ID.test(batchId)) return;
    const batch = Number(batchId);
    if (!Number.isSafeInteger(batch)) return;
    await this.#inSession('write', async (session) => {
      const collectionId = await this.#collections.lookup(session.executor, collection);
      if (collectionId === undefined) return;
      const removed = await session.executor.run(
        'DELETE FROM batch_uploads WHERE batch = ? AND userid = ? AND collection = ?',
        [batch, userId, collectionId],
      );
      if (removed > 0) {
        await session.executor.run(
          `DELETE FROM ${this.#tables(userId).batchItems} WHERE batch = ? AND userid = ?`,
          [batch, userId],
        );
      }
    });
  }

  // --- Maintenance ---------------------------------------------------------------

  async purgeExpiredItems(options: PurgeOptions = {}): Promise<PurgeResult> {
    if (this.#sessions.getStore()) {
      throw new LockEscalationError('purgeExpiredItems must not run inside a lock');
    }
    return purgeExpired({
      driver: this.#driver,
      layout: this.#layout,
      nowSeconds: Math.floor(this.#clock() / 1000),
      batchLifetimeSeconds: BATCH_LIFETIME_SECONDS,
      lockTimeoutMs: this.#lockTimeoutMs,
      options,
    });
  }

  async healthCheck(): Promise<{ database: boolean }> {
    try {
      const lease = await this.#driver.acquireRead();
      try {
        const row = await lease.executor.get<{ ok: number }>('SELECT 1 AS ok');
        return { database: Number(row?.ok) === 1 };
      } finally {
        lease.release();
      }
    } catch {
      return { database: false };
    }
  }

  async close(): Promise<void> {
    await this.#driver.close();
  }
}
