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
 * What counts as an outage, and the two log lines, are the package's one
 * definition (cache-outage.ts), shared with the server's storage layer.
 */
import type { CacheCounters } from './cache-stats.js';
import type { CacheLogger } from './cache-logger.js';
import { isOutage, OutageMonitor } from './cache-outage.js';

export class StoreGuard {
  private readonly monitor: OutageMonitor;

  constructor(
    logger: CacheLogger,
    private readonly counters: CacheCounters,
    cacheName: string,
    now: () => number,
  ) {
    this.monitor = new OutageMonitor(
      logger.child({ cache: cacheName }),
      'reads miss and writes are skipped',
      now,
    );
  }

  /** True between the first failed call of an outage and the next successful one. */
  get degraded(): boolean {
    return this.monitor.isDown;
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
    if (this.monitor.isDown) this.monitor.succeeded();
  }

  /** For callers chaining the store's promise themselves: rethrows unless `err` is an outage. */
  absorb(err: unknown): void {
    if (!isOutage(err)) throw err;
    this.counters.errors++;
    this.monitor.failed(err);
  }
}
