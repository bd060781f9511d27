/** The cache toolkit's public API. */
export { Cache } from './cache.js';
export type {
  GetOrSetOptions,
  InvalidateOptions,
  KeyOptions,
  NamespaceOption,
  WriteOptions,
} from './cache.js';
export type { CacheOptions, ResolvedCacheOptions } from './cache-options.js';
export { CacheRegistry } from './cache-registry.js';
export type { Invalidatable, InvalidationEvent } from './cache-registry.js';
export type { CacheCounters, CacheStatistics } from './cache-stats.js';
export {
  CacheKeyError,
  CacheOptionError,
  KeyTrackingDisabledError,
  UnknownCacheError,
} from './cache-errors.js';
// The cache-access core, shared with the server's storage layer.
export { type CacheLogger, silentLogger } from './cache-logger.js';
export { isOutage, OutageMonitor } from './cache-outage.js';
export {
  casUpdate,
  storeAccess,
  type CasAccess,
  type CasUpdate,
  type CasUpdateOptions,
} from './cas-update.js';
export { GenerationCache } from './generations.js';
export { decodeKey, encodeKey } from './canonical-key.js';
export { MAX_KEY_BYTES, rawStoreKey } from './key-builder.js';
export type { Loader } from './stampede.js';
