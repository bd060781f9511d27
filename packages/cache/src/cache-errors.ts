/**
 * Typed errors of the cache toolkit. They extend the store layer's
 * `CacheError`, so one `instanceof CacheError` / `code` switch covers both.
 * Store outages never surface as errors here (see `degraded-mode.ts`); these
 * are reserved for caller mistakes.
 */
import { CacheError } from '@syncstorage-ts/memcache';

/** A key that cannot be encoded: a function, a cycle, a non-string raw key, NaN. */
export class CacheKeyError extends CacheError {
  readonly code = 'CACHE_KEY';
}

/** An option or argument out of range: a negative lifetime, an `undefined` value. */
export class CacheOptionError extends CacheError {
  readonly code = 'CACHE_OPTION';
}

/** `keys()` was called on a cache created without `trackKeys: true`. */
export class KeyTrackingDisabledError extends CacheError {
  readonly code = 'CACHE_KEY_TRACKING_DISABLED';
  constructor() {
    super('key tracking is not enabled: create the Cache with option trackKeys: true');
  }
}

/** An invalidation event named a cache that is not registered. */
export class UnknownCacheError extends CacheError {
  readonly code = 'CACHE_UNKNOWN_NAME';
  constructor(readonly cacheName: string) {
    super(`no cache is registered under the name ${JSON.stringify(cacheName)}`);
  }
}
