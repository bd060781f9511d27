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
export type { CacheLogger } from './degraded-mode.js';
export { isOutage } from './degraded-mode.js';
export { GenerationCache } from './generations.js';
export { decodeKey, encodeKey } from './canonical-key.js';
export { MAX_KEY_BYTES, rawStoreKey } from './key-builder.js';
export type { Loader } from './stampede.js';
