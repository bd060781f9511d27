/**
 * The cache as this layer uses it: JSON values, typed failures, and outage
 * tracking.
 *
 * While memcached is unreachable, writes to cached and uncached collections
 * still go to the database but cannot mark anything dirty in the cache. If
 * the cache comes back with its old contents (a network cut rather than a
 * restart), those contents would be stale. So every user written during an
 * outage is remembered, and the first successful cache call after the outage
 * deletes that user's keys before anything is served from the cache again.
 * The list is per process: a process that dies during an outage forgets it
 * (documented in README.md of this folder).
 *
 * What an outage is, how it is logged and the CAS loop are the cache
 * package's one core (@syncstorage-ts/cache: isOutage, OutageMonitor,
 * casUpdate); this file adds what is this layer's own: JSON values, shared
 * decoded reads, and the users to purge after an outage.
 */
import type { CacheKey, CacheStore, CasToken } from '@syncstorage-ts/memcache';
import { CacheError } from '@syncstorage-ts/memcache';
import { type CacheLogger, type CasAccess, isOutage, OutageMonitor } from '@syncstorage-ts/cache';
import type { UserId } from '../sync-storage.js';

/** More users than this written during one outage cannot all be invalidated. */
const MAX_TRACKED_USERS = 100_000;

/** Entries kept decoded for shared reads: the hot users' metadata (a few hundred bytes each). */
const MAX_DECODED = 2_000;

export interface JsonWithCas<T> {
  value: T;
  cas: CasToken;
}

export function isCacheError(error: unknown): error is CacheError {
  return error instanceof CacheError;
}

function decode(raw: unknown): unknown {
  let text: string;
  if (typeof raw === 'string') text = raw;
  else if (Buffer.isBuffer(raw)) text = raw.toString('utf8');
  else return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function sameRaw(known: string | Buffer, raw: unknown): boolean {
  if (typeof known === 'string') return known === raw;
  return Buffer.isBuffer(raw) && known.equals(raw);
}

/** Freeze a decoded JSON value and everything in it. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export class GuardedCache {
  /** Last decoded value per key for `gets(…, { shared: true })`, with the raw value it came from. */
  private readonly decoded = new Map<
    string,
    { raw: string | Buffer; validate: (v: unknown) => boolean; value: unknown }
  >();
  private readonly monitor: OutageMonitor;
  private readonly writtenWhileDown = new Set<UserId>();
  private overflowed = false;
  private recovering: Promise<void> | undefined;

  constructor(
    private readonly store: CacheStore,
    private readonly logger: CacheLogger,
    /** Keys to delete for a user written during an outage. */
    private readonly keysOf: (userId: UserId) => CacheKey[],
  ) {
    this.monitor = new OutageMonitor(
      logger,
      'reads come from the database, writes are refused, cache-only collections unavailable',
    );
  }

  get isDown(): boolean {
    return this.monitor.isDown;
  }

  /** This cache's JSON values with `validate`, as the cache package's CAS loop reads and writes them. */
  json<T>(validate: (v: unknown) => v is T, options: { shared?: boolean } = {}): CasAccess<T> {
    return {
      gets: (key) => this.gets(key, validate, options),
      add: (key, value, ttl) => this.add(key, value, ttl),
      cas: (key, value, cas, ttl) => this.cas(key, value, cas, ttl),
      delete: (key, cas) => this.delete(key, cas),
    };
  }

  /**
   * This user's data changed in the database and the cache may not know
   * (a dirty mark or an update failed). Call it after the database write:
   * with the cache up, the user's keys are deleted now; with it down, at the
   * first success after the outage.
   */
  async noteUnrecordedWrite(userId: UserId): Promise<void> {
    if (!this.monitor.isDown) {
      try {
        for (const key of this.keysOf(userId)) await this.store.delete(key);
        return;
      } catch (error) {
        if (!isOutage(error)) return;
        this.monitor.failed(error);
      }
    }
    if (this.writtenWhileDown.size >= MAX_TRACKED_USERS) {
      if (!this.overflowed) {
        this.overflowed = true;
        this.logger.error(
          { tracked: MAX_TRACKED_USERS },
          `more than ${MAX_TRACKED_USERS} users written during a cache outage; ` +
            'flush memcached after it recovers to rule out stale entries',
        );
      }
      return;
    }
    this.writtenWhileDown.add(userId);
  }

  /** Decoded value, or undefined on a miss or an undecodable value. */
  async get<T>(key: string, validate: (v: unknown) => v is T): Promise<T | undefined> {
    const raw = await this.call(() => this.store.get(key));
    const value = raw === undefined ? undefined : decode(raw);
    return value !== undefined && validate(value) ? value : undefined;
  }

  /**
   * Decoded value and CAS; the value is null when undecodable (it keeps its
   * CAS so a writer can replace it). With `shared`, the caller takes a
   * deeply frozen value that other callers may get too: an entry read again
   * with the same contents is then not parsed and validated again (the
   * per-user metadata is read by every request).
   */
  async gets<T>(
    key: string,
    validate: (v: unknown) => v is T,
    options: { shared?: boolean } = {},
  ): Promise<JsonWithCas<T | null> | undefined> {
    const hit = await this.call(() => this.store.gets(key));
    if (hit === undefined) return undefined;
    if (!options.shared) {
      const value = decode(hit.value);
      return { value: value !== undefined && validate(value) ? value : null, cas: hit.cas };
    }
    const known = this.decoded.get(key);
    if (known && known.validate === validate && sameRaw(known.raw, hit.value)) {
      return { value: known.value as T | null, cas: hit.cas };
    }
    const decoded = decode(hit.value);
    const value = decoded !== undefined && validate(decoded) ? deepFreeze(decoded) : null;
    if (typeof hit.value === 'string' || Buffer.isBuffer(hit.value)) {
      if (this.decoded.size >= MAX_DECODED && !known) {
        const oldest = this.decoded.keys().next().value;
        if (oldest !== undefined) this.decoded.delete(oldest);
      }
      this.decoded.set(key, { raw: hit.value, validate, value });
    }
    return { value, cas: hit.cas };
  }

  async getMulti(keys: readonly string[]): Promise<unknown[]> {
    const raws = await this.call(() => this.store.getMulti(keys));
    return raws.map((raw) => (raw === undefined ? undefined : decode(raw)));
  }

  add(key: string, value: unknown, ttl = 0): Promise<boolean> {
    return this.call(() => this.store.add(key, JSON.stringify(value), { ttl }));
  }

  set(key: string, value: unknown, ttl = 0): Promise<boolean> {
    return this.call(() => this.store.set(key, JSON.stringify(value), { ttl }));
  }

  cas(key: string, value: unknown, cas: CasToken, ttl = 0): Promise<boolean> {
    return this.call(() => this.store.cas(key, JSON.stringify(value), cas, { ttl }));
  }

  delete(key: string, cas?: CasToken): Promise<boolean> {
    return this.call(() => this.store.delete(key, cas === undefined ? {} : { cas }));
  }

  /** A delete whose failure is only logged: used where the request already succeeded. */
  async deleteQuietly(key: string): Promise<void> {
    try {
      await this.delete(key);
    } catch {
      // The caller has already marked the data dirty or noted the user.
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.call(() => this.store.get(`__ping__`));
      return true;
    } catch {
      return false;
    }
  }

  private async call<T>(op: () => Promise<T>): Promise<T> {
    if (this.recovering) await this.recovering.catch(() => undefined);
    // Coming back from an outage: purge what may be stale before anything
    // is read or written (the deletes double as the reachability probe).
    if (this.monitor.isDown && this.writtenWhileDown.size > 0) await this.recover();
    let result: T;
    try {
      result = await op();
    } catch (error) {
      if (isOutage(error)) this.monitor.failed(error);
      throw error;
    }
    if (this.monitor.isDown) this.markUp();
    return result;
  }

  /** Up again once the users written during the outage are purged. */
  private markUp(): void {
    if (this.writtenWhileDown.size > 0) return;
    if (this.monitor.succeeded()) this.overflowed = false;
  }

  private recover(): Promise<void> {
    this.recovering ??= (async () => {
      try {
        for (const userId of [...this.writtenWhileDown]) {
          for (const key of this.keysOf(userId)) await this.store.delete(key);
          this.writtenWhileDown.delete(userId);
        }
        this.markUp();
      } catch (error) {
        if (isOutage(error)) this.monitor.failed(error);
        throw error;
      } finally {
        this.recovering = undefined;
      }
    })();
    return this.recovering;
  }
}
