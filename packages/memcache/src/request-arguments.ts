/**
 * Checks of caller arguments before anything is sent; each failure is a
 * `CacheInputError` naming the argument.
 */
import type { CasToken } from './cache-store.js';
import { CacheInputError } from './errors.js';

/** memcached reads TTLs as 32-bit; past 30 days they are absolute Unix times. */
const MAX_TTL = 0xffffffff;
/** ma's delta and initial value are unsigned 64-bit; JS numbers stay exact to 2^53. */
const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/** A TTL in seconds (memcached's rules: 0 never, up to 30 days relative, else absolute). */
export function checkTtl(ttl: number | undefined, name = 'ttl'): number {
  if (ttl === undefined) return 0;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) {
    throw new CacheInputError(
      `${name} must be an integer from 0 to ${MAX_TTL} seconds, got ${ttl}`,
    );
  }
  return ttl;
}

export function checkCounter(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_COUNTER) {
    throw new CacheInputError(`${name} must be an integer from 0 to 2^53-1, got ${value}`);
  }
  return value;
}

export function checkCas(cas: CasToken): CasToken {
  if (typeof cas !== 'bigint' || cas < 0n || cas >= 2n ** 64n) {
    throw new CacheInputError(`cas must be an unsigned 64-bit bigint, got ${String(cas)}`);
  }
  return cas;
}
