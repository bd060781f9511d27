/**
 * Options of `Cache`: one defaults object, validated once in the
 * constructor, then frozen.
 */
import type { CacheStore } from '@syncstorage-ts/memcache';
import { CacheOptionError } from './cache-errors.js';
import { type CacheLogger, silentLogger } from './cache-logger.js';
import type { GenerationCache } from './generations.js';
import { checkLifetime } from './lifetime.js';

export interface CacheOptions {
  /** Where entries live: a `MemcachedClient`, a `MemoryStore`, any `CacheStore`. Required. */
  store: CacheStore;
  /** Name used in log lines. Default "cache". */
  name?: string;
  /** Seconds an entry lives unless a call says otherwise; 0 = never expires. Default 3600. */
  lifetime?: number;
  /** Namespace of calls that name none; `null` = no namespace. Default null. */
  namespace?: string | null;
  /**
   * Mixed into every hashed key and internal record, so two deployments (or
   * two formats of one application) sharing a memcached never read each
   * other's entries. Raw keys are not versioned. Default "".
   */
  version?: string;
  /** Keep per-namespace lists of keys for `keys()` (costs extra writes). Default false. */
  trackKeys?: boolean;
  /** Cap on tracked keys per namespace (see `key-tracker.ts`). Default 1000. */
  maxTrackedKeys?: number;
  /**
   * Seconds of the stampede grace window: how long a stale entry is served
   * while one caller recomputes, how long a placeholder lives, and the longest
   * a caller waits for another's loader. Must exceed the loader's run time.
   * Default 30 (the seed's MINT_DELAY).
   */
  grace?: number;
  /**
   * How long generation counters (namespaces, groups, invalidateAll) are
   * cached in this process. Invalidations by another process become visible
   * here at most this late; 0 reads them on every call (one extra round trip
   * per read). Default 500.
   */
  generationCacheMs?: number;
  /** XFetch early recomputation weight for getOrSet (1 is the paper's default); 0 = off. Default 0. */
  beta?: number;
  /** A pino logger or any `CacheLogger` (cache-logger.ts), for the one-line-per-outage messages. Default: silent. */
  logger?: CacheLogger;
  /** Milliseconds since the epoch. Default Date.now. */
  clock?: () => number;
  /** Uniform [0, 1) source for XFetch. Default Math.random. */
  random?: () => number;
  /** Generation counter cache. Default: the one shared by all caches of this store object. */
  generations?: GenerationCache;
}

export type ResolvedCacheOptions = Readonly<
  Required<Omit<CacheOptions, 'generations' | 'namespace'>> & { namespace: string | null }
>;

export function resolveCacheOptions(options: CacheOptions): ResolvedCacheOptions {
  if (!options || typeof options.store !== 'object' || options.store === null) {
    throw new CacheOptionError('option store is required (a CacheStore)');
  }
  const namespace = options.namespace ?? null;
  if (namespace !== null && typeof namespace !== 'string') {
    throw new CacheOptionError('option namespace must be a string or null');
  }
  const resolved = {
    store: options.store,
    name: options.name ?? 'cache',
    lifetime: checkLifetime(options.lifetime ?? 3600, 'option lifetime'),
    namespace,
    version: String(options.version ?? ''),
    trackKeys: options.trackKeys ?? false,
    maxTrackedKeys: positiveInteger(options.maxTrackedKeys ?? 1000, 'maxTrackedKeys'),
    grace: positiveInteger(options.grace ?? 30, 'grace'),
    generationCacheMs: nonNegative(options.generationCacheMs ?? 500, 'generationCacheMs'),
    beta: nonNegative(options.beta ?? 0, 'beta'),
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? Date.now,
    random: options.random ?? Math.random,
  };
  return Object.freeze(resolved);
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new CacheOptionError(`option ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export function nonNegative(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CacheOptionError(`option ${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}
