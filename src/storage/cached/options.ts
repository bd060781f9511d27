/**
 * Options of the cached layer, validated once and frozen (fastify style).
 */
import { MAX_RELATIVE_TTL } from '@syncstorage-ts/memcache';
import type { CacheStore } from '@syncstorage-ts/memcache';
import { type CacheLogger, silentLogger } from '@syncstorage-ts/cache';
import { isValidCollectionName } from '../bso-rules.js';
import { StorageInputError } from '../errors.js';
import type { SyncStorage } from '../sync-storage.js';

/** Seed 000: a cache-level lock expires after five minutes. */
export const DEFAULT_LOCK_TTL_SECONDS = 300;

/**
 * A user's metadata entry is rebuilt from the database this long after its
 * last rebuild (metadata.ts): the most an entry no process can repair lives.
 */
export const DEFAULT_ENTRY_LIFETIME_SECONDS = 300;

/**
 * Recommended production settings (seed 000's deployment): `meta` and
 * `clients` are small and read on every sync, so they are worth caching;
 * `tabs` is rewritten constantly and losing it is harmless, so it lives only
 * in the cache.
 */
export const PRODUCTION_DEFAULTS = Object.freeze({
  cachedCollections: Object.freeze(['meta', 'clients']),
  cacheOnlyCollections: Object.freeze(['tabs']),
});

export interface CachedStorageOptions {
  /** The storage that holds the truth (the SQL backend). */
  storage: SyncStorage;
  /** The cache: `MemcachedClient` or `MemoryStore`. */
  cache: CacheStore;
  /** Collections kept in the cache and in the database (write-through). Default none. */
  cachedCollections?: readonly string[];
  /** Collections kept only in the cache, never written to the database. Default none. */
  cacheOnlyCollections?: readonly string[];
  /** Prepended to every key, to share a memcached with other users. Default "". */
  keyPrefix?: string;
  /**
   * Take collection locks in the cache instead of the database. Default false.
   * Cache-only collections always lock in the cache.
   */
  cacheLocks?: boolean;
  /** Seconds a cache lock lives if its holder dies. Default 300. */
  lockTtl?: number;
  /** Seconds a metadata entry is trusted from its rebuild from the database. Default 300. */
  entryLifetime?: number;
  /** Where outages and recoveries are reported: a pino logger or any `CacheLogger` (@syncstorage-ts/cache). Default: silent. */
  logger?: CacheLogger;
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  clock?: () => number;
}

export interface ResolvedOptions {
  readonly storage: SyncStorage;
  readonly cache: CacheStore;
  readonly cachedCollections: ReadonlySet<string>;
  readonly cacheOnlyCollections: ReadonlySet<string>;
  readonly keyPrefix: string;
  readonly cacheLocks: boolean;
  readonly lockTtl: number;
  readonly entryLifetime: number;
  readonly logger: CacheLogger;
  readonly clock: () => number;
}

export function resolveOptions(options: CachedStorageOptions): ResolvedOptions {
  const cached = new Set(options.cachedCollections ?? []);
  const cacheOnly = new Set(options.cacheOnlyCollections ?? []);
  for (const name of [...cached, ...cacheOnly]) {
    if (!isValidCollectionName(name)) {
      throw new StorageInputError(
        `invalid collection name in cachedCollections/cacheOnlyCollections: ${name}`,
      );
    }
    if (cached.has(name) && cacheOnly.has(name)) {
      throw new StorageInputError(
        `collection ${name} is in both cachedCollections and cacheOnlyCollections`,
      );
    }
  }
  const lockTtl = options.lockTtl ?? DEFAULT_LOCK_TTL_SECONDS;
  // memcached reads TTLs above 30 days as absolute times (cache-store.ts).
  if (!Number.isInteger(lockTtl) || lockTtl < 1 || lockTtl > MAX_RELATIVE_TTL) {
    throw new StorageInputError(
      `option lockTtl must be an integer 1..${MAX_RELATIVE_TTL}, got ${lockTtl}`,
    );
  }
  const entryLifetime = options.entryLifetime ?? DEFAULT_ENTRY_LIFETIME_SECONDS;
  if (!Number.isInteger(entryLifetime) || entryLifetime < 1) {
    throw new StorageInputError(
      `option entryLifetime must be a positive integer (seconds), got ${entryLifetime}`,
    );
  }
  // A dead server must be a miss, not a new home (issue 13): two processes
  // that disagree on which server is alive would hold two copies of a user.
  if (options.cache.failsOver === true) {
    throw new StorageInputError(
      'the cache client has failover on: the storage layer needs every key to stay on its server; create it with failover: false',
    );
  }
  const keyPrefix = options.keyPrefix ?? '';
  // memcached keys may not hold spaces or control characters.
  const badChar = [...keyPrefix].some(
    (ch) => ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) === 0x7f,
  );
  if (badChar || keyPrefix.length > 100) {
    throw new StorageInputError(
      'option keyPrefix must be at most 100 characters, without spaces or control characters',
    );
  }
  return Object.freeze({
    storage: options.storage,
    cache: options.cache,
    cachedCollections: cached,
    cacheOnlyCollections: cacheOnly,
    keyPrefix,
    cacheLocks: options.cacheLocks ?? false,
    lockTtl,
    entryLifetime,
    logger: (options.logger ?? silentLogger).child({ component: 'cached storage' }),
    clock: options.clock ?? Date.now,
  });
}
