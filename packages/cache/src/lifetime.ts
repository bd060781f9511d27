/**
 * Lifetimes are seconds from now, 0 = never expires. memcached reads a TTL
 * over 30 days as an absolute Unix time (protocol.txt, "Expiration times"),
 * so longer lifetimes are converted here instead of expiring at once.
 */
import { MAX_RELATIVE_TTL } from '@syncstorage-ts/memcache';
import { CacheOptionError } from './cache-errors.js';

export function checkLifetime(lifetime: number, name = 'lifetime'): number {
  if (typeof lifetime !== 'number' || !Number.isFinite(lifetime) || lifetime < 0) {
    throw new CacheOptionError(`${name} must be a number of seconds >= 0, got ${String(lifetime)}`);
  }
  return Math.ceil(lifetime);
}

/** The store TTL for a lifetime starting now. */
export function storeTtl(lifetime: number, nowMs: number): number {
  if (lifetime <= MAX_RELATIVE_TTL) return lifetime;
  return Math.floor(nowMs / 1000) + lifetime;
}

/** Absolute expiry in Unix seconds; 0 = never. */
export function expiresAt(lifetime: number, nowMs: number): number {
  return lifetime === 0 ? 0 : Math.floor(nowMs / 1000) + lifetime;
}

/** The store TTL that ends at `expiry` (Unix seconds, 0 = never); undefined if already past. */
export function ttlUntil(expiry: number, nowMs: number): number | undefined {
  if (expiry === 0) return 0;
  const remaining = expiry - Math.floor(nowMs / 1000);
  if (remaining <= 0) return undefined;
  return storeTtl(remaining, nowMs);
}
