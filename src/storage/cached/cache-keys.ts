/**
 * The memcached keys of one user (seed 000, module docstring):
 *
 *   {prefix}{uid}:metadata              storage/collection timestamps, size
 *   {prefix}{uid}:c:{collection}        a cached or cache-only collection
 *   {prefix}{uid}:c:{collection}:batches  pending batches of a cache-only collection
 *   {prefix}{uid}:lock:{collection}     a cache-level collection lock
 *
 * Collection names are `[a-zA-Z0-9._-]{1,32}` (bso-rules), so no key can
 * collide with another and all stay far below memcached's 250-byte limit
 * for any sane prefix.
 */
import type { UserId } from '../sync-storage.js';

export class CacheKeys {
  constructor(readonly prefix: string = '') {}

  metadata(userId: UserId): string {
    return `${this.prefix}${userId}:metadata`;
  }

  collection(userId: UserId, collection: string): string {
    return `${this.prefix}${userId}:c:${collection}`;
  }

  batches(userId: UserId, collection: string): string {
    return `${this.prefix}${userId}:c:${collection}:batches`;
  }

  lock(userId: UserId, collection: string): string {
    return `${this.prefix}${userId}:lock:${collection}`;
  }
}
