/**
 * The one outage definition and the one outage log of this package, shared
 * by the toolkit's degraded mode and the server's storage layer: which
 * errors mean "the cache is not there" (as opposed to "this call was
 * wrong"), and one `warn` line when an outage starts, one `info` line when
 * a call succeeds again — never one per call.
 *
 * An outage: unreachable (`CACHE_UNAVAILABLE`), too slow (`CACHE_TIMEOUT`),
 * or an answer that cannot be parsed (`CACHE_PROTOCOL`: the connection is
 * not usable). Not an outage: `CacheClosedError` (our own shutdown),
 * `CacheInputError`, `ValueTooLargeError` and the toolkit's key and option
 * errors — caller mistakes, which must not be hidden.
 */
import { CacheError } from '@syncstorage-ts/memcache';
import type { CacheLogger } from './cache-logger.js';

const OUTAGE_CODES = new Set(['CACHE_UNAVAILABLE', 'CACHE_TIMEOUT', 'CACHE_PROTOCOL']);

export function isOutage(err: unknown): err is CacheError {
  return err instanceof CacheError && OUTAGE_CODES.has(err.code);
}

/** Tracks one cache's outages and logs their start and end once each. */
export class OutageMonitor {
  private down = false;
  private startedAt = 0;

  constructor(
    private readonly logger: CacheLogger,
    /** What the lines say is affected while it lasts ("reads miss and writes are skipped"). */
    private readonly consequence: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** True between the first failed call of an outage and the next successful one. */
  get isDown(): boolean {
    return this.down;
  }

  /** A call failed with an outage error; true when this starts the outage. */
  failed(err: unknown): boolean {
    if (this.down) return false;
    this.down = true;
    this.startedAt = this.now();
    const code = err instanceof CacheError ? err.code : undefined;
    const server = (err as { server?: unknown } | null)?.server;
    const message = err instanceof Error ? err.message : String(err);
    this.logger.warn(
      { code, server, error: message },
      `cache store unreachable: ${this.consequence} until it answers again`,
    );
    return true;
  }

  /** A call succeeded; true when this ends an outage. */
  succeeded(): boolean {
    if (!this.down) return false;
    this.down = false;
    this.logger.info(
      { outageMs: this.now() - this.startedAt },
      'cache store reachable again: caching resumed',
    );
    return true;
  }
}
