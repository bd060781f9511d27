/**
 * `getOrSet` with stampede protection — the seed's MintCache idea (serve the
 * stale value while one caller regenerates), done atomically by the store:
 *
 * 1. In-process, callers of one key share one attempt (a map of flights);
 *    once the attempt knows a stale value and regenerates, the callers that
 *    joined it get that stale value at once — no caller waits while one
 *    regenerates, in one process as across processes.
 * 2. Across processes, `store.lease` (meta `mg` with `N`/`R`, see memcached's
 *    MetaCommands guide, "Serve stale"): on a miss it vivifies a placeholder
 *    living `grace` seconds and makes exactly one caller the winner (`W`);
 *    entries are written to live `lifetime + grace` seconds and leased with
 *    `R<grace>`, so once an entry is past its lifetime the first reader wins
 *    the recompute while the others keep getting the old value (`Z`); an
 *    entry invalidated with `md … I` (`Cache.invalidate(key, { stale: true })`)
 *    is served stale (`X`) the same way.
 * 3. The winner writes back with the lease's CAS token, so a value computed
 *    before a concurrent invalidation/delete is never stored over it.
 * 4. Losers with no value to serve poll with backoff. A dead winner's
 *    placeholder expires after `grace` seconds and the next lease wins; a
 *    loser never waits longer than `grace` before running the loader itself.
 * 5. XFetch (Vattani et al., "Optimal Probabilistic Cache Stampede
 *    Prevention", VLDB 2015): with `beta > 0` a reader recomputes early in
 *    the background with probability rising as expiry nears, weighted by the
 *    loader's last measured duration in this process.
 *
 * A loader that throws: the stale value is served if there is one, else the
 * error reaches the caller; nothing is written. A loader that returns
 * `undefined` ("nothing to cache") frees the lease like one that throws.
 */
import type { CacheStore, CasToken, LeaseOptions, LeaseResult } from '@syncstorage-ts/memcache';
import type { CacheCounters } from './cache-stats.js';
import type { StoreGuard } from './degraded-mode.js';
import { SingleFlight } from './single-flight.js';

export type Loader<T> = () => T | Promise<T>;

export interface StampedeCall<T, C> {
  storeKey: string;
  loader: Loader<T>;
  /** Store TTL of a written entry (lifetime + grace, or 0). */
  ttl: number;
  /** Seconds: placeholder life, stale window, and the longest a loser waits. */
  grace: number;
  /** XFetch weight; 0 disables early recomputation. */
  beta: number;
  /** Passed to the protection's `afterWrite` once the winner's write landed. */
  context: C;
}

const DEGRADED = Symbol('degraded');
const MAX_DURATIONS = 1000;

/**
 * One in-process getOrSet attempt. A caller that joins it gets the first
 * answer the attempt can give: the stale value once the winner starts
 * regenerating (`stale`), else the attempt's own result. `early` exists only
 * once someone joined before that, so a lone caller (every hit) allocates
 * nothing more than this object.
 */
interface Flight {
  stale: { value: unknown } | undefined;
  early: Deferred | undefined;
}

interface Deferred {
  promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: (value: unknown) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class StampedeProtection<C> {
  /** In-process single-flight of getOrSet attempts, by store key. */
  private readonly inflight = new Map<string, Flight>();
  private readonly refreshes = new SingleFlight<unknown>();
  private readonly durations = new Map<string, number>();
  private readonly leaseOptionsById = new Map<number, LeaseOptions>();

  constructor(
    private readonly store: CacheStore,
    private readonly guard: StoreGuard,
    private readonly counters: CacheCounters,
    private readonly now: () => number,
    private readonly random: () => number,
    /** Bookkeeping after a write (dependencies, key tracking): one function, no closure per call. */
    private readonly afterWrite: (context: C) => Promise<unknown>,
  ) {}

  getOrSet<T>(call: StampedeCall<T, C>): Promise<T> {
    const pending = this.inflight.get(call.storeKey);
    if (pending) {
      if (pending.stale) return Promise.resolve(pending.stale.value as T);
      pending.early ??= deferred();
      return pending.early.promise as Promise<T>;
    }
    const flight: Flight = { stale: undefined, early: undefined };
    this.inflight.set(call.storeKey, flight);
    return this.leaseLoop(call, flight);
  }

  /** The attempt: lease, then serve, recompute or wait; one async frame on the hit path. */
  private async leaseLoop<T>(call: StampedeCall<T, C>, flight: Flight): Promise<T> {
    try {
      // The first statement awaits, so this runs after getOrSet registered the flight.
      const deadline = this.now() + call.grace * 1000;
      const options = this.leaseOptions(call);
      let pause = 5;
      let value: T;
      for (;;) {
        // The guard inlined (no closure per call): this is getOrSet's hit path.
        let lease: LeaseResult<T> | typeof DEGRADED;
        try {
          lease = await this.store.lease<T>(call.storeKey, options);
          this.guard.succeeded();
        } catch (err) {
          this.guard.absorb(err);
          lease = DEGRADED;
        }
        if (lease === DEGRADED) {
          this.counters.misses++;
          value = await this.load(call);
          break;
        }
        if (lease.win) {
          value = await this.recompute(call, lease, flight);
          break;
        }
        if (lease.value !== undefined) {
          if (lease.stale || lease.winnerPending) this.counters.staleServed++;
          else {
            this.counters.hits++;
            this.maybeRefreshEarly(call, lease);
          }
          value = lease.value;
          break;
        }
        // Someone else holds the placeholder: wait for their value, but never past the grace window.
        if (this.now() >= deadline) {
          this.counters.misses++;
          value = await this.load(call);
          break;
        }
        await sleep(Math.min(pause, Math.max(1, deadline - this.now())));
        pause = Math.min(pause * 2, 100);
      }
      flight.early?.resolve(value);
      return value;
    } catch (err) {
      flight.early?.reject(err);
      throw err;
    } finally {
      this.inflight.delete(call.storeKey);
    }
  }

  /** The lease options of `call`, one object per (grace, expiring or not): not built per hit. */
  private leaseOptions(call: StampedeCall<unknown, C>): LeaseOptions {
    const id = call.ttl === 0 ? -call.grace : call.grace;
    let options = this.leaseOptionsById.get(id);
    if (options === undefined) {
      if (this.leaseOptionsById.size >= 100) this.leaseOptionsById.clear();
      options = Object.freeze({
        vivifyTtl: call.grace,
        recacheThreshold: call.ttl === 0 ? undefined : call.grace,
      });
      this.leaseOptionsById.set(id, options);
    }
    return options;
  }

  private async recompute<T>(
    call: StampedeCall<T, C>,
    lease: LeaseResult<T>,
    flight: Flight,
  ): Promise<T> {
    if (lease.value === undefined) this.counters.misses++;
    else {
      flight.stale = { value: lease.value };
      flight.early?.resolve(lease.value);
    }
    let value: T;
    try {
      value = await this.load(call);
    } catch (err) {
      if (lease.value !== undefined) {
        this.counters.staleServed++;
        return lease.value;
      }
      // Free the placeholder so others need not wait out the grace window.
      if (lease.cas !== undefined) await this.release(call.storeKey, lease.cas);
      throw err;
    }
    if (value === undefined) {
      // Nothing to cache: free the placeholder (or the stale entry the loader
      // says is gone) so the next caller neither waits nor is served it.
      if (lease.cas !== undefined) await this.release(call.storeKey, lease.cas);
      return value;
    }
    try {
      await this.writeBack(call, value, lease.cas);
    } catch {
      // A value the store refuses (ValueTooLargeError, …) is still the caller's
      // answer: serve it uncached, and free the placeholder for the next caller.
      this.counters.errors++;
      if (lease.cas !== undefined && lease.value === undefined) {
        await this.release(call.storeKey, lease.cas);
      }
    }
    return value;
  }

  private async load<T>(call: StampedeCall<T, C>): Promise<T> {
    this.counters.loaderCalls++;
    const started = this.now();
    try {
      return await call.loader();
    } catch (err) {
      this.counters.errors++;
      throw err;
    } finally {
      this.rememberDuration(call.storeKey, this.now() - started);
    }
  }

  private async writeBack<T>(
    call: StampedeCall<T, C>,
    value: T,
    cas: CasToken | undefined,
  ): Promise<void> {
    // undefined means "miss" to the store: never cache it.
    if (value === undefined) return;
    const written = await this.guard.run(
      () =>
        cas === undefined
          ? this.store.set(call.storeKey, value, { ttl: call.ttl })
          : this.store.cas(call.storeKey, value, cas, { ttl: call.ttl }),
      false,
    );
    if (!written) return;
    this.counters.sets++;
    await this.afterWrite(call.context);
  }

  private async release(key: string, cas: CasToken): Promise<void> {
    await this.guard.run(() => this.store.delete(key, { cas }), false);
  }

  private maybeRefreshEarly<T>(call: StampedeCall<T, C>, lease: LeaseResult<T>): void {
    if (call.beta <= 0 || call.ttl === 0 || lease.ttlRemaining === undefined) return;
    if (lease.ttlRemaining < 0) return;
    const delta = this.durations.get(call.storeKey);
    if (delta === undefined) return;
    const logicalRemainingMs = (lease.ttlRemaining - call.grace) * 1000;
    const draw = -delta * call.beta * Math.log(Math.max(this.random(), Number.MIN_VALUE));
    if (draw < logicalRemainingMs || this.refreshes.has(call.storeKey)) return;
    const cas = lease.cas;
    this.refreshes
      .run(call.storeKey, async () => this.writeBack(call, await this.load(call), cas))
      .catch(() => undefined); // counted in load(); the current value stays served
  }

  private rememberDuration(key: string, ms: number): void {
    if (this.durations.size >= MAX_DURATIONS && !this.durations.has(key)) {
      const oldest = this.durations.keys().next();
      if (!oldest.done) this.durations.delete(oldest.value);
    }
    this.durations.set(key, Math.max(ms, 1));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
