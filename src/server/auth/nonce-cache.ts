/**
 * Nonces seen within the clock-skew window, so a replayed request is
 * refused (Hawk 1: the server keeps nonces for as long as their timestamp
 * is acceptable).
 *
 * Kept in one bucket per request timestamp (seconds): a request whose ts is
 * more than the window away from now is refused before its nonce is looked
 * at, so a bucket is dropped whole once its ts leaves the window. At most
 * 2 × window + 1 buckets exist; each entry is just its key. Bounded: past
 * `maxEntries`, the bucket with the oldest ts goes first.
 */
export interface NonceCacheOptions {
  /** The clock-skew allowance, seconds: how far a ts may be from now. */
  windowSeconds: number;
  /** Hard cap on remembered nonces. Default 1,000,000. */
  maxEntries?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

export class NonceCache {
  readonly #buckets = new Map<number, Set<string>>();
  readonly #windowSeconds: number;
  readonly #maxEntries: number;
  readonly #clock: () => number;
  #size = 0;
  #prunedAt = -Infinity;

  constructor(options: NonceCacheOptions) {
    this.#windowSeconds = options.windowSeconds;
    this.#maxEntries = options.maxEntries ?? 1_000_000;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Record `key` (the token and nonce) under the request's `ts` (seconds);
   * false when it was already seen (a replay).
   */
  checkAndAdd(ts: number, key: string): boolean {
    const nowSeconds = Math.floor(this.#clock() / 1000);
    if (nowSeconds !== this.#prunedAt) this.#prune(nowSeconds);
    let bucket = this.#buckets.get(ts);
    if (bucket?.has(key)) return false;
    if (!bucket) {
      bucket = new Set();
      this.#buckets.set(ts, bucket);
    }
    bucket.add(key);
    this.#size += 1;
    while (this.#size > this.#maxEntries) this.#dropOldest();
    return true;
  }

  get size(): number {
    return this.#size;
  }

  /** Drop the buckets whose ts is out of the window (their requests are refused anyway). */
  #prune(nowSeconds: number): void {
    this.#prunedAt = nowSeconds;
    for (const [ts, bucket] of this.#buckets) {
      if (nowSeconds - ts > this.#windowSeconds) {
        this.#buckets.delete(ts);
        this.#size -= bucket.size;
      }
    }
  }

  #dropOldest(): void {
    let oldest = Infinity;
    for (const ts of this.#buckets.keys()) oldest = Math.min(oldest, ts);
    const bucket = this.#buckets.get(oldest);
    if (!bucket) return;
    // Past the cap, forget the oldest requests one at a time (Set keeps insertion order).
    const first = bucket.values().next().value;
    if (first !== undefined) bucket.delete(first);
    this.#size -= 1;
    if (bucket.size === 0) this.#buckets.delete(oldest);
  }
}
