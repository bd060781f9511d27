/**
 * Collection locks held in the cache (seed 000 `_lock_in_memcache`): one
 * mutex key per collection, taken with `add` and a TTL so that a holder that
 * dies frees it eventually. Used for cache-only collections always, and for
 * the others when `cacheLocks` is set.
 *
 * Better than the seed:
 * - seed bug: the lock was released with a plain delete even when it had
 *   expired and someone else had taken it since. Here each lock holds a
 *   random token and is deleted only by CAS while it still holds ours.
 * - The seed failed at once when the key existed; here a taker retries for a
 *   short while, as a database lock waits.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError } from '../errors.js';
import type { UserId } from '../sync-storage.js';
import type { CacheKeys } from './cache-keys.js';
import type { GuardedCache } from './guarded-cache.js';

/** The lock expired while its holder still worked: its writes may have raced another's. */
export class CacheLockExpiredError extends ConflictError {
  constructor(
    readonly key: string,
    readonly ttl: number,
  ) {
    super(`cache lock ${key} expired while held (held longer than option lockTtl=${ttl}s); retry`);
  }
}

const WAIT_MS = 1000;
const POLL_MS = 20;
const RELEASE_RETRY_MS = [50, 250, 1000, 3000];

const isToken = (v: unknown): v is string => typeof v === 'string';

export class CacheLocks {
  constructor(
    private readonly cache: GuardedCache,
    private readonly keys: CacheKeys,
    private readonly ttl: number,
    private readonly clock: () => number,
  ) {}

  /**
   * Run `fn` holding the lock of `collection`. Throws `ConflictError` if it
   * is not free within about a second, `CacheLockExpiredError` if `fn` ran
   * longer than the TTL, and the cache's errors if the cache is down.
   */
  async run<T>(userId: UserId, collection: string, fn: () => Promise<T>): Promise<T> {
    const key = this.keys.lock(userId, collection);
    const token = randomBytes(8).toString('hex');
    // Waiting is real time; the injectable clock only measures the TTL.
    const deadline = Date.now() + WAIT_MS;
    while (!(await this.take(key, token))) {
      if (Date.now() >= deadline) {
        throw new ConflictError(`collection ${collection} is locked by another request; retry`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const started = this.clock();
    let result: T;
    try {
      result = await fn();
    } finally {
      await this.release(key, token);
    }
    if (this.clock() - started >= this.ttl * 1000) throw new CacheLockExpiredError(key, this.ttl);
    return result;
  }

  /**
   * `add` the lock. An `add` whose answer was lost (a timeout) may still have
   * stored our token; a read tells, so a lock we hold is never left behind
   * for the whole TTL. A cache that is down throws from both.
   */
  private async take(key: string, token: string): Promise<boolean> {
    try {
      return await this.cache.add(key, token, this.ttl);
    } catch (err) {
      const hit = await this.cache.gets(key, isToken).catch(() => undefined);
      if (hit?.value === token) return true;
      throw err;
    }
  }

  /**
   * Delete the lock if it still holds our token. A release that fails (the
   * cache timed out) is retried a few times in the background: an orphaned
   * lock would otherwise refuse every request on the collection for `lockTtl`.
   */
  private async release(key: string, token: string): Promise<void> {
    if (await this.tryRelease(key, token)) return;
    void (async () => {
      for (const delay of RELEASE_RETRY_MS) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (await this.tryRelease(key, token)) return;
      }
      // Still unreleased: it expires after the TTL.
    })();
  }

  private async tryRelease(key: string, token: string): Promise<boolean> {
    try {
      const hit = await this.cache.gets(key, isToken);
      if (hit?.value === token) await this.cache.delete(key, hit.cas);
      return true;
    } catch {
      return false;
    }
  }
}
