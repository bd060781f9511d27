/**
 * Where a collection lock is taken (seed 000 `lock_for_read`/`lock_for_write`):
 *
 * - a read lock on a cached collection takes no lock at all, only a
 *   snapshot (see `HeldLock.snapshotOnly`), so a cache hit costs no SQL;
 * - cache-only collections, and all of them with `cacheLocks`, lock in the
 *   cache (`CacheLocks`); if the cache is down, cache-only collections are
 *   unavailable and the others take the database lock instead;
 * - otherwise the database's lock, whose transaction this layer watches: if
 *   it fails after writing, the user's cached data is dropped.
 *
 * Locks are re-entrant through the `LockContext` handed to the body; a write
 * lock inside a read lock is `LockEscalationError`, as in the database.
 */
import { LockEscalationError, StorageUnavailableError } from '../errors.js';
import type { UserId } from '../sync-storage.js';
import type { CacheLocks } from './cache-lock.js';
import { type GuardedCache, isCacheError } from './guarded-cache.js';
import { heldLock, holding, type HeldLock, type LockContext, type LockMode } from './lock-scope.js';

export interface CollectionLocksDeps {
  cache: GuardedCache;
  mutexes: CacheLocks;
  cached: ReadonlySet<string>;
  cacheOnly: ReadonlySet<string>;
  cacheLocks: boolean;
}

export class CollectionLocks {
  constructor(private readonly deps: CollectionLocksDeps) {}

  /** Run `fn` holding the lock, from `ctx`; arguments are already validated. */
  async run<T>(
    ctx: LockContext,
    mode: LockMode,
    userId: UserId,
    collection: string,
    fn: (ctx: LockContext) => Promise<T>,
  ): Promise<T> {
    const held = heldLock(ctx, userId, collection);
    if (held) {
      if (mode === 'write' && held.mode === 'read') {
        if (!held.inCache) {
          // The database refuses the escalation with its own error.
          return ctx.storage.withWriteLock(userId, collection, (tx) =>
            fn({ held: ctx.held, storage: tx }),
          );
        }
        throw new LockEscalationError(
          `cannot take the write lock on ${collection} inside its read lock`,
        );
      }
      return fn(ctx);
    }
    if (mode === 'read' && this.deps.cached.has(collection)) {
      // A cached collection is read from one consistent snapshot (see
      // HeldLock.snapshotOnly): no database transaction, no SQL on a hit.
      const lock: HeldLock = { mode, inCache: true, snapshotOnly: true, wrote: new Set() };
      return holding(ctx, userId, collection, lock, ctx.storage, fn);
    }
    const isCacheOnly = this.deps.cacheOnly.has(collection);
    if (this.deps.cacheLocks || isCacheOnly) {
      const lock: HeldLock = { mode, inCache: true, wrote: new Set() };
      let entered = false;
      try {
        return await this.deps.mutexes.run(userId, collection, () => {
          entered = true;
          return holding(ctx, userId, collection, lock, ctx.storage, fn);
        });
      } catch (error) {
        if (entered || !isCacheError(error)) throw error;
        if (isCacheOnly) {
          throw new StorageUnavailableError(
            `collection ${collection} is kept only in the cache, which is unavailable`,
            { cause: error },
          );
        }
        // The cache is down: the database lock is as good.
      }
    }
    const lock: HeldLock = { mode, inCache: false, wrote: new Set() };
    const body = (tx: LockContext['storage']) => holding(ctx, userId, collection, lock, tx, fn);
    try {
      return await (mode === 'read'
        ? ctx.storage.withReadLock(userId, collection, body)
        : ctx.storage.withWriteLock(userId, collection, body));
    } catch (error) {
      // seed bug: the cache kept what a rolled-back transaction wrote.
      if (lock.wrote.size > 0) await this.deps.cache.noteUnrecordedWrite(userId);
      throw error;
    }
  }
}
