/**
 * Which collection locks a call holds, and where its calls below this layer
 * go. A `LockContext` travels explicitly: each lock's body gets a storage
 * view carrying a new context (the seed used a thread-local; this project
 * passes it, see `SyncStorage.withReadLock`). It makes cache locks
 * re-entrant, gives the writes of one cache-locked request one timestamp,
 * and remembers what a database-locked request wrote so the cache can be
 * cleared if its transaction rolls back.
 */
import type { SyncStorage, UserId } from '../sync-storage.js';
import type { CollectionData } from './collection-data.js';

export type LockMode = 'read' | 'write';

export interface HeldLock {
  readonly mode: LockMode;
  /** Held in the cache (else in the database). */
  readonly inCache: boolean;
  /** The one timestamp of cache-only writes made under this lock. */
  writeTs?: number;
  /** Collections written under this lock (for a database lock). */
  readonly wrote: Set<string>;
  /**
   * A read lock on a cached collection takes no lock anywhere: the first
   * read inside it takes one consistent snapshot of the collection (from the
   * cache, or from the database under its read lock) and every later read
   * inside the lock answers from that snapshot.
   */
  readonly snapshotOnly?: boolean;
  snapshot?: CollectionData;
  /** The lock ended; work its body left running no longer holds it. */
  released?: boolean;
}

export interface LockContext {
  /** The locks held, by `lockId(userId, collection)`. */
  readonly held: ReadonlyMap<string, HeldLock>;
  /** The storage below: the backend, or the `tx` of the database lock held. */
  readonly storage: SyncStorage;
}

function lockId(userId: UserId, collection: string): string {
  return `${userId}:${collection}`;
}

/** The context of a caller holding no lock. */
export function rootContext(storage: SyncStorage): LockContext {
  return { held: new Map(), storage };
}

/** The lock held on the collection in `ctx`, unless it has ended. */
export function heldLock(
  ctx: LockContext,
  userId: UserId,
  collection: string,
): HeldLock | undefined {
  const lock = ctx.held.get(lockId(userId, collection));
  return lock?.released ? undefined : lock;
}

/**
 * Run `fn` with a context that holds `lock` on top of the locks of `ctx`,
 * calling below through `storage` (a database lock's `tx`). The lock counts
 * as released once `fn` settles.
 */
export async function holding<T>(
  ctx: LockContext,
  userId: UserId,
  collection: string,
  lock: HeldLock,
  storage: SyncStorage,
  fn: (ctx: LockContext) => Promise<T>,
): Promise<T> {
  const held = new Map(ctx.held);
  held.set(lockId(userId, collection), lock);
  try {
    return await fn({ held, storage });
  } finally {
    lock.released = true;
  }
}

/** Note a write to `collection` in every database lock of this user held in `ctx`. */
export function noteWrite(ctx: LockContext, userId: UserId, collection: string): void {
  const prefix = `${userId}:`;
  for (const [id, lock] of ctx.held) {
    if (id.startsWith(prefix) && !lock.inCache && !lock.released) lock.wrote.add(collection);
  }
}
