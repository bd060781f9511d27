/**
 * Degraded mode: the cache is an optimisation, so an unreachable memcached
 * must not become the application's outage. Every store call goes through
 * `StoreGuard.run`: an outage error (unavailable, timeout, a garbled answer)
 * turns into the call's fallback — a miss for reads, `false` for writes — and
 * the guard logs ONE line when the outage starts and one when a later call
 * succeeds again, not one per call. Recovery needs no timer: the next call
 * that reaches the server ends the outage.
 *
 * Caller mistakes (`CacheInputError`, `ValueTooLargeError`, `CacheClosedError`,
 * the toolkit's own key/option errors) still throw: hiding them would hide bugs.
 */
import { CacheError } from '@syncstorage-ts/memcache';
import type { CacheCounters } from './cache-stats.js';

/** The part of a pino logger the toolkit uses. */
export interface CacheLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

const OUTAGE_CODES = new Set(['CACHE_UNAVAILABLE', 'CACHE_TIMEOUT', 'CACHE_PROTOCOL']);

export function isOutage(err: unknown): err is CacheError {
  return err instanceof CacheError && OUTAGE_CODES.has(err.code);
}

export class StoreGuard {
  private down = false;
  private outageStartedAt = 0;

  constructor(
    private readonly logger: CacheLogger,
    private readonly counters: CacheCounters,
    private readonly cacheName: string,
    private readonly now: () => number,
  ) {}

  /** True between the first failed call of an outage and the next successful one. */
  get degraded(): boolean {
    return this.down;
  }

  run<T>(operation: () => Promise<T>, fallback: T): Promise<T> {
    // Plain promise chaining, not async/await: this wraps every store call.
    let pending: Promise<T>;
    try {
      pending = operation();
    } catch (err) {
      pending = Promise.reject(err);
    }
    return pending.then(
      (result) => {
        this.succeeded();
        return result;
      },
      (err: unknown) => {
        this.absorb(err);
        return fallback;
      },
    );
  }

  /** For callers chaining the store's promise themselves: a call succeeded. */
  succeeded(): void {
    if (this.down) this.recover();
  }

  /** For callers chaining the store's promise themselves: rethrows unless `err` is an outage. */
  absorb(err: unknown): void {
    if (!isOutage(err)) throw err;
    this.fail(err);
  }

  private fail(err: CacheError): void {
    this.counters.errors++;
    if (this.down) return;
    this.down = true;
    this.outageStartedAt = this.now();
    const server = (err as { server?: unknown }).server;
    this.logger.warn(
      { cache: this.cacheName, code: err.code, server, error: err.message },
      'cache store unreachable: reads miss and writes are skipped until it answers again',
    );
  }

  private recover(): void {
    this.down = false;
    this.logger.warn(
      { cache: this.cacheName, outageMs: this.now() - this.outageStartedAt },
      'cache store answers again: caching resumed',
    );
  }
}
