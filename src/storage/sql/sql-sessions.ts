/**
 * Sessions of the SQL backend: one connection, one transaction and one write
 * timestamp. A lock's session is handed to its body explicitly (as the
 * storage view `tx` of `withReadLock` / `withWriteLock`), so every call made
 * through it joins the lock's transaction and nested locks are re-entrant.
 * Explicit rather than AsyncLocalStorage: on Node 20 one AsyncLocalStorage
 * in use makes every promise and async resource of the process pay an init
 * hook: 12–16 % of the server's CPU per info/collections request, measured
 * (bench/README.md, "HTTP server").
 *
 * Timestamps: a write session starts at the current time and, on taking a
 * collection's write lock, moves to 10 ms past the collection's and the
 * storage's current timestamps if they are at or ahead of it. The seed raised
 * `ConflictError` there; a write must never fail merely because another write
 * fell in the same 10 ms.
 */
import { ConflictError, LockEscalationError } from '../errors.js';
import { nowMs } from '../timestamps.js';
import type { CollectionRegistry } from './collection-registry.js';
import type { Statement } from './bso-upsert.js';
import type { SqlDriver, SqlExecutor, SqlLease } from '../../sql/sql-types.js';

export type LockMode = 'read' | 'write';

export interface Session {
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
  /** Set when the session's transaction has ended. */
  closed: boolean;
}

export function lockKey(userId: number, collectionId: number): string {
  return `${userId}:${collectionId}`;
}

export interface SqlSessionsOptions {
  driver: SqlDriver;
  collections: CollectionRegistry;
  lockTimeoutMs: number;
  clock: () => number;
}

export class SqlSessions {
  readonly #driver: SqlDriver;
  readonly #collections: CollectionRegistry;
  readonly #lockTimeoutMs: number;
  readonly #clock: () => number;

  constructor(options: SqlSessionsOptions) {
    this.#driver = options.driver;
    this.#collections = options.collections;
    this.#lockTimeoutMs = options.lockTimeoutMs;
    this.#clock = options.clock;
  }

  /**
   * Run `fn` holding a shared lock on the collection: in `current` (the
   * caller's open session, if any) or in a read transaction of its own.
   */
  async readLock<T>(
    current: Session | undefined,
    userId: number,
    collection: string,
    fn: (session: Session) => Promise<T>,
  ): Promise<T> {
    if (current) {
      const collectionId = await this.#collections.lookup(current.executor, collection);
      const key = lockKey(userId, collectionId ?? -1);
      if (current.locks.has(key)) return fn(current);
      if (collectionId !== undefined) await this.lockRow(current, userId, collectionId, 'read');
      current.locks.set(key, 'read');
      try {
        return await fn(current);
      } finally {
        current.locks.delete(key);
      }
    }
    return this.transaction('read', async (session) => {
      // A collection that does not exist yet has no row to lock; the query
      // still pins SQLite's snapshot, so it stays absent for this session.
      const collectionId = await this.#collections.lookup(session.executor, collection);
      await this.lockRow(session, userId, collectionId ?? -1, 'read');
      session.locks.set(lockKey(userId, collectionId ?? -1), 'read');
      return fn(session);
    });
  }

  /** Run `fn` holding an exclusive lock on the collection: in `current`, or a write transaction. */
  async writeLock<T>(
    current: Session | undefined,
    userId: number,
    collection: string,
    fn: (session: Session) => Promise<T>,
  ): Promise<T> {
    if (current) {
      if (current.mode === 'read') {
        throw new LockEscalationError(
          `cannot write ${collection} inside a read lock; take the write lock first`,
        );
      }
      const collectionId = await this.collectionIdForWrite(current, collection);
      await this.lockForWrite(current, userId, collectionId);
      return fn(current);
    }
    return this.transaction(
      'write',
      async (session) => {
        const collectionId = await this.collectionIdForWrite(session, collection);
        await this.lockForWrite(session, userId, collectionId);
        return fn(session);
      },
      // Collection names are global and harmless to keep: create the name
      // before the transaction so a rollback cannot leave a stale cache entry.
      async (executor) => {
        await this.#collections.lookupOrCreate(executor, collection);
      },
    );
  }

  /** `current` (the caller's open session, if any), or a short one of its own for `fn`. */
  async inSession<T>(
    current: Session | undefined,
    mode: LockMode,
    fn: (session: Session) => Promise<T>,
  ): Promise<T> {
    if (current) {
      if (mode === 'write' && current.mode === 'read') {
        throw new LockEscalationError('cannot write inside a read lock; take the write lock first');
      }
      return fn(current);
    }
    if (mode === 'write') return this.transaction('write', fn);
    const lease = this.#acquireReadNow() ?? (await this.#acquire('read'));
    const session = this.#newSession(lease.executor, 'read', false);
    try {
      return await fn(session);
    } catch (error) {
      throw this.#driver.translateError(error);
    } finally {
      session.closed = true;
      lease.release();
    }
  }

  #acquireReadNow(): SqlLease | undefined {
    try {
      return this.#driver.acquireReadNow?.();
    } catch (error) {
      throw this.#driver.translateError(error);
    }
  }

  async #acquire(mode: LockMode): Promise<SqlLease> {
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
      closed: false,
    };
  }

  async transaction<T>(
    mode: LockMode,
    fn: (session: Session) => Promise<T>,
    beforeBegin?: (executor: SqlExecutor) => Promise<void>,
  ): Promise<T> {
    const lease = await this.#acquire(mode);
    const { executor } = lease;
    let discard = false;
    let sessionRef: Session | undefined;
    try {
      if (beforeBegin) await beforeBegin(executor);
      const { dialect } = this.#driver;
      await executor.run(mode === 'write' ? dialect.beginWrite : dialect.beginRead);
      const session = this.#newSession(executor, mode, true);
      sessionRef = session;
      try {
        const result = await fn(session);
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
      if (sessionRef) sessionRef.closed = true;
      lease.release(discard);
    }
  }

  /** Take the row lock of a collection (PostgreSQL) or pin the snapshot (SQLite). */
  async lockRow(
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

  async collectionIdForWrite(session: Session, name: string): Promise<number> {
    const { id, created } = await this.#collections.lookupOrCreate(session.executor, name);
    if (created && session.transactional) session.createdCollections.push(name);
    return id;
  }

  async lockForWrite(session: Session, userId: number, collectionId: number): Promise<void> {
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
        `INSERT INTO user_collections (userid, collection, last_modified) VALUES (?, ?, 0)
         ${this.#driver.dialect.ignoreDuplicate('userid')}`,
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

  /** The statement that sets the collection's timestamp to the session's. */
  touchStatement(session: Session, userId: number, collectionId: number): Statement {
    const { dialect } = this.#driver;
    return {
      sql: `INSERT INTO user_collections (userid, collection, last_modified) VALUES (?, ?, ?)
            ${dialect.upsert('userid, collection', `last_modified = ${dialect.inserted('last_modified')}`)}`,
      params: [userId, collectionId, session.timestamp],
    };
  }

  /** Record that `touchStatement` ran (inside another statement). */
  touched(session: Session, userId: number, collectionId: number): number {
    session.wrote = true;
    session.touched.add(lockKey(userId, collectionId));
    return session.timestamp;
  }

  /** Set the collection's timestamp to the session's; marks the session as written. */
  async touch(session: Session, userId: number, collectionId: number): Promise<number> {
    const { sql, params } = this.touchStatement(session, userId, collectionId);
    await session.executor.run(sql, params);
    return this.touched(session, userId, collectionId);
  }
}
