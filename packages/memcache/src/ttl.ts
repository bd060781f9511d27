/**
 * memcached's expiration-time rules, shared by everything that speaks
 * `CacheStore` TTLs (protocol.txt, "Expiration times"):
 *
 * - 0: never expires;
 * - 1 .. 2,592,000 (30 days): seconds from now;
 * - anything larger: an absolute Unix time in seconds — one in the past
 *   expires the item at once.
 *
 * Negative, fractional and non-finite TTLs are refused with a
 * `CacheInputError` here, before any store sees them: memcached would read a
 * negative exptime as "already expired", which is never what a caller meant.
 */
import { CacheInputError } from './errors.js';

/** Largest TTL that memcached reads as relative seconds (30 days). */
export const MAX_RELATIVE_TTL = 60 * 60 * 24 * 30;

/** Largest TTL the meta protocol carries (memcached's exptime is a 32-bit field). */
export const MAX_TTL = 0xffff_ffff;

/**
 * Checks a TTL and returns it unchanged.
 * @throws CacheInputError if it is negative, fractional, not finite or above `MAX_TTL`.
 */
export function validateTtl(ttl: number, what = 'ttl'): number {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) {
    throw new CacheInputError(
      `${what} must be an integer number of seconds between 0 and ${MAX_TTL}, got ${String(ttl)}`,
    );
  }
  return ttl;
}

/**
 * The instant (milliseconds since the epoch) at which an item stored at
 * `nowMs` with `ttl` expires; 0 for "never".
 * @throws CacheInputError as `validateTtl`.
 */
export function expiresAtMs(ttl: number, nowMs: number, what = 'ttl'): number {
  validateTtl(ttl, what);
  if (ttl === 0) return 0;
  if (ttl <= MAX_RELATIVE_TTL) return nowMs + ttl * 1000;
  // Absolute Unix time. One in the past (or now) must still mean "expired",
  // never "no expiry", so it is clamped to a non-zero instant.
  return Math.max(1, ttl * 1000);
}

/** Whether an item with expiry `expiresAt` (0 = never) has expired at `nowMs`. */
export function isExpired(expiresAt: number, nowMs: number): boolean {
  return expiresAt !== 0 && expiresAt <= nowMs;
}

/**
 * Seconds left, as memcached's `t` flag reports them: -1 for "never",
 * otherwise whole seconds rounded up (an item with 0.4 s left still has 1).
 */
export function remainingSeconds(expiresAt: number, nowMs: number): number {
  if (expiresAt === 0) return -1;
  return Math.max(0, Math.ceil((expiresAt - nowMs) / 1000));
}
