/**
 * `SqlStorage`: the SyncStorage of the seed's `SQLStorage`, over any
 * `SqlDriver` (SQLite, PostgreSQL). Every call runs in a session
 * (`sql-sessions.ts`): the lock's, when called on the `tx` view that
 * `withReadLock` / `withWriteLock` hand to their body, or a short one of its
 * own (writes lock their collection, reads run as plain statements).
 */
import {
  CollectionNotFoundError,
  ConflictError,
  InvalidBatchError,
  ItemNotFoundError,
  LockEscalationError,
  StorageInputError,
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
import type {
  ListUsersOptions,
  StorageDirectory,
  UsageTotals,
  UserUsage,
} from '../storage-directory.js';
import { batchApplyStatements, batchExpiredTargets, batchItemUpserts } from './batch-statements.js';
import { bsoUpserts, mergeDuplicateIds } from './bso-upsert.js';
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
} from '../input-checks.js';
import { BSO_IDS, findQuery, FULL_BSOS, placeholders, type FindShape } from './find-query.js';
import { decodeOffset, encodeNextOffset } from '../paging-token.js';
import {
  migrateSchema,
  QUOTA_TABLE,
  ShardLayout,
  USAGE_TABLE,
  type TableNames,
} from './sql-schema.js';
import {
  usageOfBatchApply,
  usageOfDelete,
  usageOfUpsert,
  type UsageTarget,
} from './usage-statements.js';
import { lockKey, SqlSessions, type LockMode, type Session } from './sql-sessions.js';
import type { SqlDriver, SqlExecutor, SqlValue } from '../../sql/sql-types.js';
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

/** Marks the constructor call that makes a lock's view (module-private). */
const VIEW = Symbol('SqlStorage lock view');

interface ViewInit {
  readonly [VIEW]: { readonly of: SqlStorage; readonly session: Session };
}

export class SqlStorage implements SyncStorage, StorageDirectory {
  readonly #driver: SqlDriver;
  readonly #layout: ShardLayout;
  readonly #lockTimeoutMs: number;
  readonly #clock: () => number;
  readonly #collections: CollectionRegistry;
  readonly #sessions: SqlSessions;
  /** Set on a lock's view (`tx`): the lock's session, which its calls join. */
  readonly #session: Session | undefined;

  constructor(options: SqlStorageOptions | ViewInit) {
    if (VIEW in options) {
      const { of, session } = options[VIEW];
      this.#driver = of.#driver;
      this.#layout = of.#layout;
      this.#lockTimeoutMs = of.#lockTimeoutMs;
      this.#clock = of.#clock;
      this.#collections = of.#collections;
      this.#sessions = of.#sessions;
      this.#session = session;
      return;
    }
    this.#session = undefined;
    this.#driver = options.driver;
    this.#collections = new CollectionRegistry(this.#driver.dialect);
    this.#layout = new ShardLayout(options.shards ?? 0);
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 5000;
    this.#clock = options.clock ?? Date.now;
    this.#sessions = new SqlSessions({
      driver: this.#driver,
      collections: this.#collections,
      lockTimeoutMs: this.#lockTimeoutMs,
      clock: this.#clock,
    });
  }

  /** Create or migrate the schema; idempotent. Call once before use. */
  async migrate(): Promise<void> {
    const lease = await this.#driver.acquireWrite(60_000);
    const { executor } = lease;
    try {
      await executor.run(this.#driver.dialect.beginWrite);
      try {
        const { migrationLock, migrationUnlock } = this.#driver.dialect;
        if (migrationLock) await executor.run(migrationLock);
        try {
          await migrateSchema(executor, this.#driver.dialect, this.#layout, STANDARD_COLLECTIONS);
          await executor.run('COMMIT');
        } finally {
          if (migrationUnlock) await executor.run(migrationUnlock);
        }
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

  withReadLock<T>(
    userId: UserId,
    collection: string,
    fn: (tx: SyncStorage) => Promise<T>,
  ): Promise<T> {
    checkUserId(userId);
    checkCollection(collection);
    return this.#sessions.readLock(this.#current(), userId, collection, (session) =>
      fn(this.#view(session)),
    );
  }

  withWriteLock<T>(
    userId: UserId,
    collection: string,
    fn: (tx: SyncStorage) => Promise<T>,
  ): Promise<T> {
    checkUserId(userId);
    checkCollection(collection);
    return this.#writing(userId, collection, (session) => fn(this.#view(session)));
  }

  /** The open session this storage's calls join: a view's, until its lock ends. */
  #current(): Session | undefined {
    const session = this.#session;
    // Work a lock body left running after the lock ended must not reuse its connection.
    return session && !session.closed ? session : undefined;
  }

  /** This storage bound to `session` (the same object when it already is). */
  #view(session: Session): SqlStorage {
    return session === this.#session ? this : new SqlStorage({ [VIEW]: { of: this, session } });
  }

  #inSession<T>(mode: LockMode, fn: (session: Session) => Promise<T>): Promise<T> {
    return this.#sessions.inSession(this.#current(), mode, fn);
  }

  /** Run `fn` in a session holding the collection's write lock (the view's, or its own). */
  #writing<T>(
    userId: number,
    collection: string,
    fn: (session: Session) => Promise<T>,
  ): Promise<T> {
    return this.#sessions.writeLock(this.#current(), userId, collection, fn);
  }

  #tables(userId: number): TableNames {
    return this.#layout.forUser(userId);
  }

  #usageTarget(userId: number, collectionId: number): UsageTarget {
    return {
      bso: this.#tables(userId).bso,
      userId,
      collectionId,
      dialect: this.#driver.dialect,
    };
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
    return (await this.getTimestamps(userId)).collections;
  }

  async getTimestamps(userId: UserId): Promise<UserTimestamps> {
    checkUserId(userId);
    return this.#inSession('read', async ({ executor }) => {
      // Every row, the tombstone of deleted collections included: the
      // storage timestamp is their maximum, the map leaves the tombstone out.
      // The query behind every info/collections: rows as arrays (see `rows`).
      const rows = await executor.rows(
        'SELECT collection, last_modified FROM user_collections WHERE userid = ?',
        [userId],
      );
      let storage = 0;
      const live: Array<[number, number]> = [];
      for (const [collection, lastModified] of rows) {
        const ts = Number(lastModified);
        if (ts > storage) storage = ts;
        const id = Number(collection);
        if (id !== TOMBSTONE_COLLECTION && ts > 0) live.push([id, ts]);
      }
      return { storage, collections: await this.#byName(executor, live) };
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

  async getTotalSize(userId: UserId, recalculate = false): Promise<number> {
    checkUserId(userId);
    return this.#inSession('read', async (session) => {
      if (!recalculate) {
        // The running total: expired rows count until purged.
        const total = await session.executor.get<{ n: number | null }>(
          `SELECT SUM(bytes) AS n FROM ${USAGE_TABLE} WHERE userid = ?`,
          [userId],
        );
        return Number(total?.n ?? 0);
      }
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
      const batches = await executor.rows(
        `SELECT batch FROM batch_uploads WHERE userid = ?
         UNION SELECT batch FROM ${batchItems} WHERE userid = ?`,
        [userId, userId],
      );
      await this.#deleteBatches(
        executor,
        userId,
        batches.map(([batch]) => Number(batch)),
      );
      await executor.run('DELETE FROM user_collections WHERE userid = ?', [userId]);
      await executor.run(`DELETE FROM ${USAGE_TABLE} WHERE userid = ?`, [userId]);
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
    return this.#find(userId, collection, options, FULL_BSOS);
  }

  async getItemIds(
    userId: UserId,
    collection: string,
    options?: FindOptions,
  ): Promise<FindResult<string>> {
    const { items, nextOffset } = await this.#find(userId, collection, options, BSO_IDS);
    return { items: items.map((row) => row.id), nextOffset };
  }

  async #find<T extends { modified: number }>(
    userId: UserId,
    collection: string,
    options: FindOptions | undefined,
    shape: FindShape<T>,
  ): Promise<FindResult<T>> {
    checkUserId(userId);
    checkCollection(collection);
    const find = checkFindOptions(options);
    const position =
      find.offset === undefined ? undefined : decodeOffset(find.offset, find.sort, find);
    return this.#inSession('read', async (session) => {
      const collectionId = await this.#collections.lookup(session.executor, collection);
      if (collectionId === undefined) throw new CollectionNotFoundError(collection);
      const { sql, params } = findQuery({
        table: this.#tables(userId).bso,
        userId,
        collectionId,
        nowSeconds: this.#nowSeconds(session),
        find,
        position,
        columns: shape.columns,
        dialect: this.#driver.dialect,
      });
      const rows = (await session.executor.rows(sql, params)).map(shape.toItem);
      if (rows.length === 0) {
        // Empty, or no such collection? Only the latter is an error.
        if ((await this.#userCollectionTimestamp(session, userId, collectionId)) === undefined) {
          throw new CollectionNotFoundError(collection);
        }
      }
      let nextOffset: string | null = null;
      if (find.limit !== undefined && rows.length > find.limit) {
        const lookahead = rows[find.limit]!;
        rows.length = find.limit;
        nextOffset = encodeNextOffset(find.sort, position, rows, lookahead);
      }
      return { items: rows, nextOffset };
    });
  }

  async setItems(userId: UserId, collection: string, items: readonly BsoInput[]): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    checkBsoInputs(items);
    return this.#writing(userId, collection, async (session) => {
      const collectionId = await this.#sessions.collectionIdForWrite(session, collection);
      return this.#writeBsosAndTouch(session, userId, collectionId, mergeDuplicateIds(items));
    });
  }

  /** Write items and set the collection's timestamp; returns it. */
  async #writeBsosAndTouch(
    session: Session,
    userId: number,
    collectionId: number,
    items: readonly BsoInput[],
  ): Promise<number> {
    const { dialect } = this.#driver;
    const statements = bsoUpserts(
      this.#tables(userId).bso,
      userId,
      collectionId,
      items,
      session.timestamp,
      dialect,
    );
    const usage = usageOfUpsert(
      this.#usageTarget(userId, collectionId),
      items,
      this.#nowSeconds(session),
    );
    for (const { sql, params } of usage) await session.executor.run(sql, params);
    const touch = this.#sessions.touchStatement(session, userId, collectionId);
    const last = statements.pop();
    if (last && dialect.writableCte) {
      // One round trip fewer per POST: the timestamp rides on the last upsert.
      statements.push({
        sql: `WITH touched AS (${touch.sql} RETURNING 1) ${last.sql}`,
        params: [...touch.params, ...last.params],
      });
    } else {
      if (last) statements.push(last);
      statements.push(touch);
    }
    for (const { sql, params } of statements) await session.executor.run(sql, params);
    return this.#sessions.touched(session, userId, collectionId);
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
    if (!this.#current()) await this.#inSession('read', check);
    return this.#writing(userId, collection, async (session) => {
      const collectionId = await check(session);
      const { executor } = session;
      const { bso } = this.#tables(userId);
      const existed = await this.#userCollectionTimestamp(session, userId, collectionId);
      const deleted = await executor.run(`DELETE FROM ${bso} WHERE userid = ? AND collection = ?`, [
        userId,
        collectionId,
      ]);
      if (existed === undefined && deleted === 0) throw new CollectionNotFoundError(collection);
      const batches = await executor.rows(
        'SELECT batch FROM batch_uploads WHERE userid = ? AND collection = ?',
        [userId, collectionId],
      );
      await this.#deleteBatches(
        executor,
        userId,
        batches.map(([batch]) => Number(batch)),
      );
      await executor.run('DELETE FROM user_collections WHERE userid = ? AND collection = ?', [
        userId,
        collectionId,
      ]);
      await executor.run(`DELETE FROM ${USAGE_TABLE} WHERE userid = ? AND collection = ?`, [
        userId,
        collectionId,
      ]);
      session.placeholders.delete(lockKey(userId, collectionId));
      // The storage timestamp must still move forward (it is the max over
      // collections, and this one is gone): a tombstone row keeps it, as
      // syncstorage-rs does.
      return this.#sessions.touch(session, userId, TOMBSTONE_COLLECTION);
    });
  }

  /**
   * Delete batches and their items by primary key `(batch, userid)`. They
   * are found first by a plain read: MySQL locks every row a DELETE scans,
   * and a `DELETE … WHERE userid = ?` scanned the batch tables (PRIMARY is
   * batch first) through other users' batch commits into deadlocks
   * (drill:crash).
   */
  async #deleteBatches(
    executor: SqlExecutor,
    userId: number,
    batches: readonly number[],
  ): Promise<void> {
    const { batchItems } = this.#tables(userId);
    for (let start = 0; start < batches.length; start += 500) {
      const chunk = batches.slice(start, start + 500);
      const list = placeholders(chunk.length);
      for (const table of [batchItems, 'batch_uploads']) {
        await executor.run(`DELETE FROM ${table} WHERE batch IN (${list}) AND userid = ?`, [
          ...chunk,
          userId,
        ]);
      }
    }
  }

  async deleteItems(userId: UserId, collection: string, ids: readonly string[]): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    checkIds(ids);
    if (!this.#current()) {
      await this.#inSession('read', async ({ executor }) => {
        if ((await this.#collections.lookup(executor, collection)) === undefined) {
          throw new CollectionNotFoundError(collection);
        }
      });
    }
    return this.#writing(userId, collection, async (session) => {
      const collectionId = await this.#sessions.collectionIdForWrite(session, collection);
      // The seed touched (so created) a collection the user did not have.
      if ((await this.#userCollectionTimestamp(session, userId, collectionId)) === undefined) {
        throw new CollectionNotFoundError(collection);
      }
      const unique = [...new Set(ids)];
      for (const { sql, params } of usageOfDelete(
        this.#usageTarget(userId, collectionId),
        unique,
      )) {
        await session.executor.run(sql, params);
      }
      await this.#deleteIds(session.executor, userId, collectionId, ids);
      return this.#sessions.touch(session, userId, collectionId);
    });
  }

  /** Delete items by primary key, in chunks that stay below every bind limit. */
  async #deleteIds(
    executor: SqlExecutor,
    userId: number,
    collectionId: number,
    ids: readonly string[],
  ): Promise<void> {
    const { bso } = this.#tables(userId);
    for (let start = 0; start < ids.length; start += 500) {
      const chunk = ids.slice(start, start + 500);
      await executor.run(
        `DELETE FROM ${bso} WHERE userid = ? AND collection = ? AND id IN (${placeholders(chunk.length)})`,
        [userId, collectionId, ...chunk],
      );
    }
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
    return this.#writing(userId, collection, async (session) => {
      const collectionId = await this.#sessions.collectionIdForWrite(session, collection);
      const existing = await session.executor.get(
        `SELECT 1 AS found FROM ${this.#tables(userId).bso}
           WHERE userid = ? AND collection = ? AND id = ? AND ttl > ?`,
        [userId, collectionId, id, this.#nowSeconds(session)],
      );
      const modified = await this.#writeBsosAndTouch(session, userId, collectionId, [item]);
      return { created: !existing, modified };
    });
  }

  async deleteItem(userId: UserId, collection: string, id: string): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    checkItemId(id);
    if (!this.#current()) {
      await this.#inSession('read', async ({ executor }) => {
        if ((await this.#collections.lookup(executor, collection)) === undefined) {
          throw new ItemNotFoundError(id);
        }
      });
    }
    return this.#writing(userId, collection, async (session) => {
      const collectionId = await this.#sessions.collectionIdForWrite(session, collection);
      const now = this.#nowSeconds(session);
      for (const { sql, params } of usageOfDelete(
        this.#usageTarget(userId, collectionId),
        [id],
        now,
      )) {
        await session.executor.run(sql, params);
      }
      const deleted = await session.executor.run(
        `DELETE FROM ${this.#tables(userId).bso}
           WHERE userid = ? AND collection = ? AND id = ? AND ttl > ?`,
        [userId, collectionId, id, this.#nowSeconds(session)],
      );
      if (deleted === 0) throw new ItemNotFoundError(id);
      return this.#sessions.touch(session, userId, collectionId);
    });
  }

  // --- Batches -----------------------------------------------------------------------

  async createBatch(userId: UserId, collection: string): Promise<string> {
    checkUserId(userId);
    checkCollection(collection);
    return this.#writing(userId, collection, async (session) => {
      const collectionId = await this.#sessions.collectionIdForWrite(session, collection);
      // The id is a ms timestamp with the uid's last digit mixed in (the
      // old layout shards batch items by it). Two batches in the same
      // 10 ms move on to the next free slot instead of failing as the seed did.
      let batch = session.timestamp + (userId % 10);
      for (let attempt = 0; attempt < 1000; attempt++, batch += 10) {
        const inserted = await session.executor.run(
          `INSERT INTO batch_uploads (batch, userid, collection) VALUES (?, ?, ?)
           ${this.#driver.dialect.ignoreDuplicate('batch')}`,
          [batch, userId, collectionId],
        );
        if (inserted === 1) return String(batch);
      }
      throw new ConflictError('too many batches created at once; retry');
    });
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
    return this.#writing(userId, collection, async (session) => {
      const open = await this.#openBatch(session, userId, collection, batchId);
      if (!open) throw new InvalidBatchError(batchId);
      const table = this.#tables(userId).batchItems;
      for (const statement of batchItemUpserts(
        table,
        open.batch,
        userId,
        mergeDuplicateIds(items),
        this.#driver.dialect,
      )) {
        await session.executor.run(statement.sql, statement.params);
      }
      return session.timestamp;
    });
  }

  async applyBatch(userId: UserId, collection: string, batchId: string): Promise<number> {
    checkUserId(userId);
    checkCollection(collection);
    return this.#writing(userId, collection, async (session) => {
      const open = await this.#openBatch(session, userId, collection, batchId);
      if (!open) throw new InvalidBatchError(batchId);
      const { bso, batchItems } = this.#tables(userId);
      const usage = usageOfBatchApply(
        this.#usageTarget(userId, open.collectionId),
        batchItems,
        open.batch,
        this.#nowSeconds(session),
      );
      await session.executor.run(usage.sql, usage.params);
      const input = {
        bso,
        batchItems,
        userId,
        collectionId: open.collectionId,
        batch: open.batch,
        timestamp: session.timestamp,
        dialect: this.#driver.dialect,
      };
      // Expired rows the batch names must not lend it their old fields:
      // found by a plain read, deleted by primary key (see batchExpiredTargets).
      const expired = batchExpiredTargets(input);
      const ids = await session.executor.rows(expired.sql, expired.params);
      await this.#deleteIds(
        session.executor,
        userId,
        open.collectionId,
        ids.map(([id]) => String(id)),
      );
      for (const { sql, params } of batchApplyStatements(input)) {
        await session.executor.run(sql, params);
      }
      session.wrote = true;
      return this.#sessions.touch(session, userId, open.collectionId);
    });
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

  // --- Per-user quota ----------------------------------------------------------

  async getUserQuota(userId: UserId): Promise<number | null> {
    checkUserId(userId);
    return this.#inSession('read', async ({ executor }) => {
      const row = await executor.get<{ quota_bytes: number }>(
        `SELECT quota_bytes FROM ${QUOTA_TABLE} WHERE userid = ?`,
        [userId],
      );
      return row ? Number(row.quota_bytes) : null;
    });
  }

  async setUserQuota(userId: UserId, bytes: number | null): Promise<void> {
    checkUserId(userId);
    if (bytes !== null && (!Number.isSafeInteger(bytes) || bytes < 0)) {
      throw new StorageInputError(`quota must be a whole number of bytes ≥ 0, got ${bytes}`);
    }
    const { dialect } = this.#driver;
    await this.#inSession('write', async ({ executor }) => {
      if (bytes === null) {
        await executor.run(`DELETE FROM ${QUOTA_TABLE} WHERE userid = ?`, [userId]);
        return;
      }
      await executor.run(
        `INSERT INTO ${QUOTA_TABLE} (userid, quota_bytes) VALUES (?, ?)
         ${dialect.upsert('userid', `quota_bytes = ${dialect.inserted('quota_bytes')}`)}`,
        [userId, bytes],
      );
    });
  }

  // --- The operator's directory ------------------------------------------------

  async listUsers(options: ListUsersOptions = {}): Promise<UserUsage[]> {
    const search = options.search ?? '';
    if (!/^\d{0,20}$/.test(search)) {
      throw new StorageInputError(
        `a user search is digits of a user id, got ${JSON.stringify(search)}`,
      );
    }
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? 50)), 1000);
    const offset = Math.max(0, Math.floor(options.offset ?? 0));
    const order = options.order === 'userid' ? 'u.userid' : 'bytes DESC, u.userid';
    const userIds = options.userIds ?? [];
    if (userIds.some((id) => !Number.isSafeInteger(id) || id <= 0) || userIds.length > 1000) {
      throw new StorageInputError('userIds: at most 1000 positive integers');
    }
    if (options.userIds && userIds.length === 0) return [];
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (search !== '') {
      where.push(`CAST(u.userid AS ${this.#driver.dialect.textCast}) LIKE ?`);
      params.push(`${search}%`);
    }
    if (userIds.length > 0) {
      where.push(`u.userid IN (${placeholders(userIds.length)})`);
      params.push(...userIds);
    }
    return this.#inSession('read', async ({ executor }) => {
      const rows = await executor.rows(
        `SELECT u.userid, SUM(u.bytes) AS bytes, SUM(u.items) AS items,
           SUM(CASE WHEN u.items > 0 THEN 1 ELSE 0 END) AS collections,
           (SELECT MAX(c.last_modified) FROM user_collections c WHERE c.userid = u.userid) AS modified,
           (SELECT q.quota_bytes FROM ${QUOTA_TABLE} q WHERE q.userid = u.userid) AS quota
         FROM ${USAGE_TABLE} u
         ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
         GROUP BY u.userid ORDER BY ${order} LIMIT ? OFFSET ?`,
        [...params, limit, offset],
      );
      return rows.map(([userId, bytes, items, collections, modified, quota]) => ({
        userId: Number(userId),
        bytes: Number(bytes ?? 0),
        items: Number(items ?? 0),
        collections: Number(collections ?? 0),
        lastModified: Number(modified ?? 0),
        quotaBytes: quota === null || quota === undefined ? null : Number(quota),
      }));
    });
  }

  async usageTotals(): Promise<UsageTotals> {
    return this.#inSession('read', async ({ executor }) => {
      const [row] = await executor.rows(
        `SELECT COUNT(DISTINCT userid), SUM(items), SUM(bytes) FROM ${USAGE_TABLE} WHERE items > 0`,
      );
      const [users, items, bytes] = row ?? [];
      return { users: Number(users ?? 0), items: Number(items ?? 0), bytes: Number(bytes ?? 0) };
    });
  }

  // --- Maintenance ---------------------------------------------------------------

  async purgeExpiredItems(options: PurgeOptions = {}): Promise<PurgeResult> {
    if (this.#current()) {
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
    if (this.#driver.checkHealth?.() !== undefined) return { database: false };
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
