/**
 * Read-modify-write of one record with compare-and-swap, retried until it
 * lands: the one CAS loop of this package, used by the toolkit (dependency
 * lists, key tracking) and by the server's storage layer (metadata, cache-only
 * collections). The seed appended to dependency lists blindly, so two
 * concurrent writers lost each other's entries; here a writer that loses the
 * race reads again and reapplies its change to the newer record.
 */
import type { CacheStore, CasToken } from '@syncstorage-ts/memcache';

/**
 * The calls a CAS update needs, over any value encoding: a `CacheStore`
 * (`storeAccess`), or a typed view that decodes and validates (the storage
 * layer's JSON values). `value: null` is a record that exists but cannot be
 * decoded: the update replaces it by CAS.
 */
export interface CasAccess<T> {
  gets(key: string): Promise<{ value: T | null; cas: CasToken } | undefined>;
  add(key: string, value: T, ttl: number): Promise<boolean>;
  cas(key: string, value: T, cas: CasToken, ttl: number): Promise<boolean>;
  delete(key: string, cas: CasToken): Promise<boolean>;
}

export interface CasUpdate<T> {
  /** The new record, or `undefined` to leave the stored one as it is. */
  next: T | undefined;
  /** Store TTL for the new record; `undefined` means delete it instead. */
  ttl: number | undefined;
}

export interface CasUpdateOptions {
  /** Rounds before giving up. Default 32. */
  attempts?: number;
  /** Wait after a lost round (spreads racing writers). Default a few random ms, growing. */
  pause?: (attempt: number) => Promise<void>;
}

const MAX_ATTEMPTS = 32;

function defaultPause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 8)));
}

/** A `CacheStore` as `CasAccess` (values as the store's serializer gives them). */
export function storeAccess<T>(store: CacheStore): CasAccess<T> {
  return {
    gets: (key) => store.gets<T>(key),
    add: (key, value, ttl) => store.add(key, value, { ttl }),
    cas: (key, value, cas, ttl) => store.cas(key, value, cas, { ttl }),
    delete: (key, cas) => store.delete(key, { cas }),
  };
}

/**
 * Apply `change` to the record at `key` atomically (`change` may read
 * elsewhere first, e.g. a database, and is called again on each lost
 * round). Resolves false only if it lost the race `attempts` times in a row.
 */
export async function casUpdate<T>(
  access: CasAccess<T> | CacheStore,
  key: string,
  change: (current: T | undefined) => CasUpdate<T> | Promise<CasUpdate<T>>,
  options: CasUpdateOptions = {},
): Promise<boolean> {
  const store: CasAccess<T> = 'getMulti' in access ? storeAccess<T>(access) : access;
  const attempts = options.attempts ?? MAX_ATTEMPTS;
  const pause = options.pause ?? defaultPause;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await store.gets(key);
    const { next, ttl } = await change(current?.value ?? undefined);
    if (next === undefined) return true;
    let done: boolean;
    if (ttl === undefined) {
      done = current === undefined || (await store.delete(key, current.cas));
    } else if (current === undefined) {
      done = await store.add(key, next, ttl);
    } else {
      done = await store.cas(key, next, current.cas, ttl);
    }
    if (done) return true;
    await pause(attempt);
  }
  return false;
}
