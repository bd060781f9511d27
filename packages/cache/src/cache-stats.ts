/** The toolkit's own counters, reported by `Cache.stats()` next to the store's. */
export interface CacheCounters {
  /** Reads that found a value (get, getMany per key, getOrSet). */
  hits: number;
  /** Reads that found nothing (including reads skipped while degraded). */
  misses: number;
  /** getOrSet calls answered with a stale value while another caller recomputed. */
  staleServed: number;
  /** Loader invocations by getOrSet (after in-process single-flight). */
  loaderCalls: number;
  /** Store failures absorbed by degraded mode, and loader failures. */
  errors: number;
  /** Successful writes (set, add, getOrSet write-backs). */
  sets: number;
  /** invalidate / invalidateAll / invalidateGroup / invalidateDependencies calls. */
  invalidations: number;
}

export function emptyCounters(): CacheCounters {
  return {
    hits: 0,
    misses: 0,
    staleServed: 0,
    loaderCalls: 0,
    errors: 0,
    sets: 0,
    invalidations: 0,
  };
}

export interface CacheStatistics {
  /** The store's per-server `stats` ("host:port" → name → value); empty while degraded. */
  servers: Record<string, Record<string, string>>;
  counters: CacheCounters;
}
