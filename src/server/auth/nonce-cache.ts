/**
 * Nonces seen within the clock-skew window, so a replayed request is
 * refused (Hawk 1: the server keeps nonces for as long as their timestamp
 * is acceptable). Bounded: the oldest entries go first when full.
 */
export interface NonceCacheOptions {
  /** How long a nonce is remembered, ms (the skew window on both sides). */
  ttlMs: number;
  /** Hard cap on remembered nonces. Default 1,000,000. */
  maxEntries?: number;
  clock?: () => number;
}

export class NonceCache {
  // Map keeps insertion order, and every entry gets the same ttl, so the
  // oldest-inserted entry is always the first to expire.
  readonly #seen = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #clock: () => number;

  constructor(options: NonceCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 1_000_000;
    this.#clock = options.clock ?? Date.now;
  }

  /** Record `key`; false when it was already seen within the window (a replay). */
  checkAndAdd(key: string): boolean {
    const now = this.#clock();
    this.#prune(now);
    const expiry = this.#seen.get(key);
    if (expiry !== undefined && expiry > now) return false;
    this.#seen.delete(key);
    this.#seen.set(key, now + this.#ttlMs);
    while (this.#seen.size > this.#maxEntries) {
      const oldest = this.#seen.keys().next().value;
      if (oldest === undefined) break;
      this.#seen.delete(oldest);
    }
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  #prune(now: number): void {
    for (const [key, expiry] of this.#seen) {
      if (expiry > now) break;
      this.#seen.delete(key);
    }
  }
}
