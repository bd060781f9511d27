/**
 * Read-modify-write of one record with compare-and-swap, retried until it
 * lands: the seed appended to dependency lists blindly, so two concurrent
 * writers lost each other's entries. Here a writer that loses the race reads
 * again and reapplies its change to the newer record.
 */
import type { CacheStore } from '@syncstorage-ts/memcache';

export interface CasUpdate<T> {
  /** The new record, or `undefined` to leave the stored one as it is. */
  next: T | undefined;
  /** Store TTL for the new record; `undefined` means delete it instead. */
  ttl: number | undefined;
}

const MAX_ATTEMPTS = 32;

/**
 * Apply `change` to the record at `key` atomically. Resolves false only if
 * it lost the race `MAX_ATTEMPTS` times in a row.
 */
export async function casUpdate<T>(
  store: CacheStore,
  key: string,
  change: (current: T | undefined) => CasUpdate<T>,
): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await store.gets<T>(key);
    const { next, ttl } = change(current?.value);
    if (next === undefined) return true;
    let done: boolean;
    if (ttl === undefined) {
      done = current === undefined || (await store.delete(key, { cas: current.cas }));
    } else if (current === undefined) {
      done = await store.add(key, next, { ttl });
    } else {
      done = await store.cas(key, next, current.cas, { ttl });
    }
    if (done) return true;
    // Spread the retries of many racing writers a little.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 8)));
  }
  return false;
}
