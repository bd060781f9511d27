/** Public surface of the memcache layer: the CacheStore interface, its errors, and the memcached client. */
export type {
  CacheKey,
  CacheStore,
  CasToken,
  CounterOptions,
  DeleteOptions,
  LeaseOptions,
  LeaseResult,
  SetOptions,
  ValueWithCas,
} from './cache-store.js';
export {
  CacheClosedError,
  CacheError,
  CacheInputError,
  CacheProtocolError,
  CacheTimeoutError,
  CacheUnavailableError,
  ValueTooLargeError,
} from './errors.js';
export { MemcachedClient } from './memcached-client.js';
export type { MemcachedClientOptions, ServerSpec } from './client-options.js';
export type { KetamaDistribution } from './ketama-ring.js';
export { FLAG_BYTES, FLAG_JSON, FLAG_TEXT, jsonSerializer, type Serializer } from './serializer.js';
export { MemoryStore, MEMORY_STORE_VERSION } from './memory-store.js';
export type { MemoryStoreOptions } from './memory-store-options.js';
export { MAX_RELATIVE_TTL, MAX_TTL, expiresAtMs, validateTtl } from './ttl.js';
