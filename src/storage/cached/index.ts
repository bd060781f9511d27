/**
 * The memcached layer over any `SyncStorage` (seed 000). See README.md.
 *
 *   const storage = createCachedStorage({
 *     storage: await openSqlStorage({ url }),
 *     cache: new MemcachedClient({ servers }),
 *     ...PRODUCTION_DEFAULTS,
 *   });
 */
import { CachedStorage } from './cached-storage.js';
import type { CachedStorageOptions } from './options.js';

export { CachedStorage } from './cached-storage.js';
export { CacheKeys } from './cache-keys.js';
export { CacheLockExpiredError } from './cache-lock.js';
export {
  DEFAULT_ENTRY_LIFETIME_SECONDS,
  DEFAULT_LOCK_TTL_SECONDS,
  PRODUCTION_DEFAULTS,
  type CachedStorageOptions,
} from './options.js';
export type { Metadata } from './metadata.js';

export function createCachedStorage(options: CachedStorageOptions): CachedStorage {
  return new CachedStorage(options);
}
