/**
 * Which collection locks the current request holds, carried through its
 * async calls (AsyncLocalStorage; the seed used a thread-local). It makes
 * cache locks re-entrant, gives the writes of one cache-locked request one
 * timestamp, and remembers what a database-locked request wrote so the cache
 * can be cleared if its transaction rolls back.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { UserId } from '../sync-storage.js';
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

type Held = ReadonlyMap<string, HeldLock>;

export class LockScope {
  private readonly storage = new AsyncLocalStorage<Held>();

  private static id(userId: UserId, collection: string): string {
    return `${userId}:${collection}`;
  }

  held(userId: UserId, collection: string): HeldLock | undefined {
    const lock = this.storage.getStore()?.get(LockScope.id(userId, collection));
    return lock?.released ? undefined : lock;
  }

  /** Run `fn` with `lock` recorded as held (on top of the locks already held). */
  run<T>(userId: UserId, collection: string, lock: HeldLock, fn: () => Promise<T>): Promise<T> {
    const next = new Map(this.storage.getStore() ?? []);
    next.set(LockScope.id(userId, collection), lock);
    return this.storage.run(next, async () => {
      try {
        return await fn();
      } finally {
        lock.released = true;
      }
    });
  }

  /** Note a write to `collection` in every database lock of this user held now. */
  noteWrite(userId: UserId, collection: string): void {
    const prefix = `${userId}:`;
    for (const [id, lock] of this.storage.getStore() ?? []) {
      if (id.startsWith(prefix) && !lock.inCache && !lock.released) lock.wrote.add(collection);
    }
  }
}
