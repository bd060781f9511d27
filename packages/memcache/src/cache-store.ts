/**
 * The cache store interface: the one seam between everything that caches and
 * the thing that holds the cache. Two implementations stand behind it — the
 * memcached meta-protocol client (`MemcachedClient`) and the in-process store
 * (`MemoryStore`) — and one conformance suite (`packages/memcache/src/store-conformance.ts`)
 * runs against both.
 *
 * TTLs follow memcached: 0 never expires; 1..2,592,000 (30 days) is seconds
 * from now; anything larger is an absolute Unix time in seconds (a time in the
 * past expires the item at once). Negative TTLs are a `CacheInputError`.
 *
 * Results that say "no" are values (`false`, `undefined`), not errors: a miss,
 * an `add` over an existing key, a lost CAS race. Errors are reserved for
 * things that went wrong: the store is unreachable (`CacheUnavailableError`),
 * too slow (`CacheTimeoutError`), the value is too large (`ValueTooLargeError`),
 * the server answered nonsense (`CacheProtocolError`), bad arguments
 * (`CacheInputError`).
 */

/** Any string or Buffer is a key; the store never alters or truncates it. */
export type CacheKey = string | Buffer;

/** memcached's 64-bit CAS unique, carried as a bigint. */
export type CasToken = bigint;

export interface SetOptions {
  /** Seconds, with memcached's rules (see the file comment). Default 0: no expiry. */
  ttl?: number;
}

export interface DeleteOptions {
  /** Delete only if the item's CAS still equals this token. */
  cas?: CasToken;
}

export interface CounterOptions {
  /** If the key is missing, create it with this value (else a miss returns undefined). */
  initial?: number;
  /** TTL for an item created through `initial`. */
  ttl?: number;
}

export interface ValueWithCas<T> {
  value: T;
  cas: CasToken;
}

/** Options for `lease`, the stampede-protection read (meta protocol `mg` with N/R flags). */
export interface LeaseOptions {
  /**
   * On a miss, create an empty placeholder that lives this many seconds and
   * make this caller the one winner that must fill it (`mg … N<ttl>`).
   * The placeholder expiring is what frees the others if the winner dies.
   */
  vivifyTtl: number;
  /**
   * If the item's remaining TTL is below this many seconds, the first caller
   * to see it wins the right to recompute early while others keep the value
   * (`mg … R<secs>`). Optional.
   */
  recacheThreshold?: number;
}

export interface LeaseResult<T> {
  /** The cached value, if there is one (fresh or stale); undefined on a miss/placeholder. */
  value: T | undefined;
  /** Present when a value or placeholder exists; pass it to `cas` to write back. */
  cas: CasToken | undefined;
  /** This caller must recompute and write back with `cas` (memcached's `W` flag). */
  win: boolean;
  /** The value was marked stale (`X` flag): serve it only while someone recomputes. */
  stale: boolean;
  /** Someone else already won and is recomputing (`Z` flag). */
  winnerPending: boolean;
  /** Seconds the item has left; -1 if it never expires; undefined when missing. */
  ttlRemaining: number | undefined;
}

export interface CacheStore {
  /**
   * True when a dead server's keys may be sent to another server (ring
   * failover). Absent means false. A wrapper must forward its inner store's
   * value, so a caller that needs every key to stay put (the storage layer,
   * issue 13) can see through it.
   */
  readonly failsOver?: boolean;

  /** Value for `key`, or `undefined` on a miss. A stored `null` comes back as `null`. */
  get<T = unknown>(key: CacheKey): Promise<T | undefined>;

  /** Value and CAS token, or `undefined` on a miss. */
  gets<T = unknown>(key: CacheKey): Promise<ValueWithCas<T> | undefined>;

  /**
   * Values for many keys at once (one pipelined batch per server). The result
   * is aligned with `keys`: `result[i]` is the value of `keys[i]`, or
   * `undefined` where it missed.
   */
  getMulti<T = unknown>(keys: readonly CacheKey[]): Promise<Array<T | undefined>>;

  /** Store unconditionally. Resolves true when stored. */
  set(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean>;

  /** Store only if the key is absent. Resolves false if it exists. */
  add(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean>;

  /** Store only if the key exists. Resolves false if it is missing. */
  replace(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean>;

  /**
   * Append raw bytes to an existing item's stored bytes. Meaningful for Buffer
   * or string values (a string value stays a string). Resolves false if missing.
   */
  append(key: CacheKey, data: string | Buffer): Promise<boolean>;

  /** Prepend raw bytes; as `append`. */
  prepend(key: CacheKey, data: string | Buffer): Promise<boolean>;

  /**
   * Store only if the item's CAS token still equals `cas`. Resolves false if the
   * item changed since (or was deleted / expired).
   */
  cas(key: CacheKey, value: unknown, cas: CasToken, options?: SetOptions): Promise<boolean>;

  /** Delete. Resolves false if missing (or if `options.cas` does not match). */
  delete(key: CacheKey, options?: DeleteOptions): Promise<boolean>;

  /**
   * Add `delta` (default 1) to a decimal counter; resolves the new value, or
   * `undefined` if the key is missing and no `initial` was given. Counters are
   * unsigned 64-bit in memcached; values beyond 2^53 lose precision here.
   * Incrementing a non-numeric value is a `CacheInputError`.
   */
  incr(key: CacheKey, delta?: number, options?: CounterOptions): Promise<number | undefined>;

  /** Subtract, never below 0 (memcached's rule). As `incr`. */
  decr(key: CacheKey, delta?: number, options?: CounterOptions): Promise<number | undefined>;

  /** Set a new TTL without fetching. Resolves false if missing. */
  touch(key: CacheKey, ttl: number): Promise<boolean>;

  /** Fetch and set a new TTL in one step; `undefined` on a miss. */
  getAndTouch<T = unknown>(key: CacheKey, ttl: number): Promise<T | undefined>;

  /**
   * Stampede-protected read (see `LeaseOptions`). Exactly one concurrent caller
   * gets `win: true` for a missing, stale or soon-expiring item.
   */
  lease<T = unknown>(key: CacheKey, options: LeaseOptions): Promise<LeaseResult<T>>;

  /**
   * Mark an item stale instead of deleting it (`md … I`): readers still get the
   * old value with `stale: true` and the next `lease` wins the recompute. The
   * item's TTL is cut to `ttl` seconds (the grace window). Resolves false if missing.
   */
  invalidate(key: CacheKey, ttl: number): Promise<boolean>;

  /** Remove every item on every server (optionally after `delay` seconds). */
  flush(delay?: number): Promise<void>;

  /** memcached's `stats`, per server ("host:port" → name → value). */
  stats(): Promise<Record<string, Record<string, string>>>;

  /** Server versions, per server ("host:port" → version string). */
  version(): Promise<Record<string, string>>;

  /** Close connections / release memory. Later calls reject with `CacheClosedError`. */
  close(): Promise<void>;
}
