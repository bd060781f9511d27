/**
 * Options of the in-process store: one defaults object, validated once in the
 * constructor, then frozen.
 */
import { CacheInputError } from './errors.js';

export interface MemoryStoreOptions {
  /** Byte budget; least recently used items are evicted beyond it. Default 64 MiB (memcached's `-m 64`). */
  maxBytes?: number;
  /** Item size limit for a serialized value, as the client's. Default 1 MiB (memcached's `-I 1m`). */
  maxValueSize?: number;
  /** Clock in milliseconds since the epoch. Default `Date.now`; tests pass a fake one. */
  now?: () => number;
}

export type ResolvedMemoryStoreOptions = Readonly<Required<MemoryStoreOptions>>;

export const MEMORY_STORE_DEFAULTS: ResolvedMemoryStoreOptions = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxValueSize: 1024 * 1024,
  now: Date.now,
});

/** @throws CacheInputError naming the option that is wrong. */
export function resolveMemoryStoreOptions(
  options: MemoryStoreOptions = {},
): ResolvedMemoryStoreOptions {
  const resolved = { ...MEMORY_STORE_DEFAULTS, ...stripUndefined(options) };
  for (const name of ['maxBytes', 'maxValueSize'] as const) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new CacheInputError(`option ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  if (resolved.maxBytes < resolved.maxValueSize) {
    throw new CacheInputError(
      `option maxBytes (${resolved.maxBytes}) must be at least option maxValueSize (${resolved.maxValueSize})`,
    );
  }
  if (typeof resolved.now !== 'function') {
    throw new CacheInputError('option now must be a function returning milliseconds');
  }
  return Object.freeze(resolved);
}

function stripUndefined(options: MemoryStoreOptions): MemoryStoreOptions {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as MemoryStoreOptions;
}
