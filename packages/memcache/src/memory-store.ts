/**
 * The in-process cache store: the embedded default when no memcached is
 * configured. It keeps memcached's semantics so that code moved between the
 * two behaves the same: CAS tokens unique per modification, memcached's TTL
 * rules with lazy expiry (no timer per key — Node timers overflow past 24.8
 * days), LRU eviction under a byte budget, the item size limit, counters and
 * the meta protocol's lease/invalidate behaviour. The shared conformance
 * suite (`packages/memcache/src/store-conformance.ts`) runs against it and against a
 * real memcached.
 */
import type {
  CacheKey,
  CacheStore,
  CasToken,
  CounterOptions,
  DeleteOptions,
  LeaseOptions,
  LeaseResult,
  SetOptions,
  ValueWithCas,
} from './cache-store.js';
import { CacheClosedError, CacheInputError, ValueTooLargeError } from './errors.js';
import {
  SERVER_CREATED_FORMAT,
  dataBytes,
  decodeValue,
  encodeValue,
  type EncodedValue,
} from './memory-codec.js';
import { applyDelta, counterBytes, parseCounter, toUnsigned64 } from './memory-counter.js';
import { ITEM_OVERHEAD, takeReadFlags, type MemoryItem, type ReadFlags } from './memory-item.js';
import { ByteBudgetLru } from './memory-lru.js';
import {
  resolveMemoryStoreOptions,
  type MemoryStoreOptions,
  type ResolvedMemoryStoreOptions,
} from './memory-store-options.js';
import { MemoryStats } from './memory-stats.js';
import { expiresAtMs, isExpired, remainingSeconds, validateTtl } from './ttl.js';

export type { MemoryStoreOptions } from './memory-store-options.js';

/** What `version()` reports for the in-process store. */
export const MEMORY_STORE_VERSION = '1.0.0';

/** The "server" name under which `stats()` and `version()` report. */
export const MEMORY_SERVER_NAME = 'memory';

interface KeyRef {
  /** The key's bytes as a latin1 string: a lossless Map key. */
  readonly id: string;
  readonly length: number;
}

interface ItemFields {
  format: EncodedValue['format'];
  bytes: Buffer;
  expiresAt: number;
  placeholder?: boolean;
  stale?: boolean;
  tokenSent?: boolean;
}

export class MemoryStore implements CacheStore {
  readonly #options: ResolvedMemoryStoreOptions;
  readonly #items: ByteBudgetLru<MemoryItem>;
  readonly #stats = new MemoryStats();
  readonly #startedAt: number;
  #lastCas = 0n;
  /** Pending delayed flush (ms since the epoch), applied lazily. */
  #flushAt: number | undefined;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.#options = resolveMemoryStoreOptions(options);
    this.#startedAt = this.#options.now();
    this.#items = new ByteBudgetLru(this.#options.maxBytes, (_key, item) => {
      if (isExpired(item.expiresAt, this.#options.now())) this.#stats.reclaimed++;
      else this.#stats.evictions++;
    });
  }

  async get<T = unknown>(key: CacheKey): Promise<T | undefined> {
    return (await this.gets<T>(key))?.value;
  }

  async gets<T = unknown>(key: CacheKey): Promise<ValueWithCas<T> | undefined> {
    const item = this.#read(this.#key(key))?.item;
    if (!item || item.placeholder) return undefined;
    return { value: decodeValue(item.format, item.bytes) as T, cas: item.cas };
  }

  async getMulti<T = unknown>(keys: readonly CacheKey[]): Promise<Array<T | undefined>> {
    this.#open();
    if (!Array.isArray(keys)) throw new CacheInputError('getMulti expects an array of keys');
    const refs = keys.map((key) => this.#key(key));
    return refs.map((ref) => {
      const item = this.#read(ref)?.item;
      return item && !item.placeholder ? (decodeValue(item.format, item.bytes) as T) : undefined;
    });
  }

  async set(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    const ref = this.#key(key);
    const fields = this.#fields(value, options?.ttl);
    this.#stats.cmd_set++;
    this.#write(ref, fields);
    return true;
  }

  async add(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    const ref = this.#key(key);
    const fields = this.#fields(value, options?.ttl);
    this.#stats.cmd_set++;
    // A lease placeholder is an item: `add` over it fails, as on memcached.
    if (this.#live(ref)) return false;
    this.#write(ref, fields);
    return true;
  }

  async replace(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    const ref = this.#key(key);
    const fields = this.#fields(value, options?.ttl);
    this.#stats.cmd_set++;
    if (!this.#live(ref)) return false;
    this.#write(ref, fields);
    return true;
  }

  append(key: CacheKey, data: string | Buffer): Promise<boolean> {
    return this.#concat(key, data, false);
  }

  prepend(key: CacheKey, data: string | Buffer): Promise<boolean> {
    return this.#concat(key, data, true);
  }

  async cas(key: CacheKey, value: unknown, cas: CasToken, options?: SetOptions): Promise<boolean> {
    const ref = this.#key(key);
    const fields = this.#fields(value, options?.ttl);
    if (typeof cas !== 'bigint') throw new CacheInputError('cas token must be a bigint');
    this.#stats.cmd_set++;
    const item = this.#live(ref);
    if (!item) {
      this.#stats.cas_misses++;
      return false;
    }
    if (item.cas !== cas) {
      this.#stats.cas_badval++;
      return false;
    }
    this.#stats.cas_hits++;
    this.#write(ref, fields);
    return true;
  }

  async delete(key: CacheKey, options?: DeleteOptions): Promise<boolean> {
    const ref = this.#key(key);
    const item = this.#live(ref);
    if (!item || (options?.cas !== undefined && item.cas !== options.cas)) {
      this.#stats.delete_misses++;
      return false;
    }
    this.#items.delete(ref.id);
    this.#stats.delete_hits++;
    return true;
  }

  incr(key: CacheKey, delta = 1, options?: CounterOptions): Promise<number | undefined> {
    return this.#count(key, delta, options, true);
  }

  decr(key: CacheKey, delta = 1, options?: CounterOptions): Promise<number | undefined> {
    return this.#count(key, delta, options, false);
  }

  async touch(key: CacheKey, ttl: number): Promise<boolean> {
    const ref = this.#key(key);
    const expiresAt = expiresAtMs(ttl, this.#now());
    this.#stats.cmd_touch++;
    const item = this.#live(ref);
    if (!item) {
      this.#stats.touch_misses++;
      return false;
    }
    // memcached's touch changes only the expiry: the CAS stays.
    item.expiresAt = expiresAt;
    this.#items.bump(ref.id);
    this.#stats.touch_hits++;
    return true;
  }

  async getAndTouch<T = unknown>(key: CacheKey, ttl: number): Promise<T | undefined> {
    const ref = this.#key(key);
    const expiresAt = expiresAtMs(ttl, this.#now());
    this.#stats.cmd_touch++;
    const item = this.#read(ref)?.item;
    if (!item) {
      this.#stats.touch_misses++;
      return undefined;
    }
    item.expiresAt = expiresAt;
    this.#stats.touch_hits++;
    return item.placeholder ? undefined : (decodeValue(item.format, item.bytes) as T);
  }

  async lease<T = unknown>(key: CacheKey, options: LeaseOptions): Promise<LeaseResult<T>> {
    const ref = this.#key(key);
    if (typeof options !== 'object' || options === null) {
      throw new CacheInputError('lease needs options with vivifyTtl');
    }
    const now = this.#now();
    const vivifyAt = expiresAtMs(options.vivifyTtl, now, 'vivifyTtl');
    if (options.recacheThreshold !== undefined) {
      validateTtl(options.recacheThreshold, 'recacheThreshold');
    }
    const found = this.#read(ref, options.recacheThreshold);
    if (!found) {
      const created = this.#write(ref, {
        format: SERVER_CREATED_FORMAT,
        bytes: Buffer.alloc(0),
        expiresAt: vivifyAt,
        placeholder: true,
        tokenSent: true,
      });
      // The placeholder's own TTL. (memcached 1.6.18 reports t-1 here when `t`
      // comes before `N` in the request, because it applies flags in order;
      // the client puts N first, so both stores report the vivify TTL.)
      return {
        value: undefined,
        cas: created.cas,
        win: true,
        stale: false,
        winnerPending: false,
        ttlRemaining: remainingSeconds(created.expiresAt, now),
      };
    }
    const { item, flags } = found;
    return {
      value: item.placeholder ? undefined : (decodeValue(item.format, item.bytes) as T),
      cas: item.cas,
      ...flags,
      ttlRemaining: remainingSeconds(item.expiresAt, now),
    };
  }

  async invalidate(key: CacheKey, ttl: number): Promise<boolean> {
    const ref = this.#key(key);
    const expiresAt = expiresAtMs(ttl, this.#now());
    const item = this.#live(ref);
    if (!item) {
      this.#stats.delete_misses++;
      return false;
    }
    // `md … I T<ttl>`: a new CAS, stale, the recompute token handed out anew,
    // the TTL replaced (T0 means "never", as everywhere).
    this.#write(ref, {
      format: item.format,
      bytes: item.bytes,
      expiresAt,
      placeholder: item.placeholder,
      stale: true,
      tokenSent: false,
    });
    this.#stats.delete_hits++;
    return true;
  }

  async flush(delay = 0): Promise<void> {
    this.#open();
    const at = expiresAtMs(delay, this.#now(), 'delay');
    this.#stats.cmd_flush++;
    if (at === 0) {
      this.#items.clear();
      this.#flushAt = undefined;
    } else {
      // flush_all <delay>: items written before the deadline die at it.
      this.#flushAt = at;
    }
  }

  async stats(): Promise<Record<string, Record<string, string>>> {
    this.#open();
    const now = this.#now();
    const stats = this.#stats.render({
      pid: process.pid,
      uptime: Math.floor((now - this.#startedAt) / 1000),
      time: Math.floor(now / 1000),
      version: MEMORY_STORE_VERSION,
      curr_items: this.#items.count,
      bytes: this.#items.bytes,
      limit_maxbytes: this.#options.maxBytes,
      item_size_max: this.#options.maxValueSize,
    });
    return { [MEMORY_SERVER_NAME]: stats };
  }

  async version(): Promise<Record<string, string>> {
    this.#open();
    return { [MEMORY_SERVER_NAME]: MEMORY_STORE_VERSION };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#items.clear();
  }

  // --- internals ---------------------------------------------------------

  #open(): void {
    if (this.#closed) throw new CacheClosedError('the in-process cache store is closed');
  }

  /** The current time; applies a delayed flush whose deadline has passed. */
  #now(): number {
    const now = this.#options.now();
    if (this.#flushAt !== undefined && now >= this.#flushAt) {
      // Every item still here was written before the deadline (the first
      // operation after it lands here), so all of them go.
      this.#items.clear();
      this.#flushAt = undefined;
    }
    return now;
  }

  #key(key: CacheKey): KeyRef {
    this.#open();
    if (typeof key === 'string') {
      const bytes = Buffer.from(key, 'utf8');
      return { id: bytes.toString('latin1'), length: bytes.length };
    }
    if (Buffer.isBuffer(key)) return { id: key.toString('latin1'), length: key.length };
    throw new CacheInputError('a cache key must be a string or a Buffer');
  }

  /** The item if it exists and has not expired (expired ones are dropped). */
  #live(ref: KeyRef, now = this.#now()): MemoryItem | undefined {
    const item = this.#items.peek(ref.id);
    if (item && isExpired(item.expiresAt, now)) {
      this.#items.delete(ref.id);
      return undefined;
    }
    return item;
  }

  /** A counted fetch (`mg`): bumps recency and applies the lease flags. */
  #read(
    ref: KeyRef,
    recacheThreshold?: number,
  ): { item: MemoryItem; flags: ReadFlags } | undefined {
    const now = this.#now();
    this.#stats.cmd_get++;
    const present = this.#items.peek(ref.id);
    const item = this.#live(ref, now);
    if (!item) {
      if (present) this.#stats.get_expired++;
      this.#stats.get_misses++;
      return undefined;
    }
    this.#stats.get_hits++;
    this.#items.bump(ref.id);
    return { item, flags: takeReadFlags(item, now, recacheThreshold) };
  }

  #fields(value: unknown, ttl = 0): ItemFields {
    const expiresAt = expiresAtMs(ttl, this.#now());
    const encoded = encodeValue(value);
    this.#checkSize(encoded.bytes.length);
    return { ...encoded, expiresAt };
  }

  #checkSize(size: number): void {
    if (size > this.#options.maxValueSize) {
      throw new ValueTooLargeError(size, this.#options.maxValueSize);
    }
  }

  /** Stores a new version of the item: a new CAS, most recently used. */
  #write(ref: KeyRef, fields: ItemFields): MemoryItem {
    this.#lastCas += 1n;
    const item: MemoryItem = {
      format: fields.format,
      bytes: fields.bytes,
      expiresAt: fields.expiresAt,
      cas: this.#lastCas,
      size: ref.length + fields.bytes.length + ITEM_OVERHEAD,
      placeholder: fields.placeholder ?? false,
      stale: fields.stale ?? false,
      tokenSent: fields.tokenSent ?? false,
    };
    this.#items.set(ref.id, item);
    this.#stats.total_items++;
    return item;
  }

  async #concat(key: CacheKey, data: string | Buffer, before: boolean): Promise<boolean> {
    const ref = this.#key(key);
    const extra = dataBytes(data);
    this.#stats.cmd_set++;
    const item = this.#live(ref);
    if (!item) return false;
    const bytes = before ? Buffer.concat([extra, item.bytes]) : Buffer.concat([item.bytes, extra]);
    this.#checkSize(bytes.length);
    // The format (memcached's client flags) and the expiry stay the item's.
    this.#write(ref, { format: item.format, bytes, expiresAt: item.expiresAt });
    return true;
  }

  async #count(
    key: CacheKey,
    delta: number,
    options: CounterOptions | undefined,
    increment: boolean,
  ): Promise<number | undefined> {
    const ref = this.#key(key);
    const amount = toUnsigned64(delta, 'delta');
    const initial =
      options?.initial === undefined ? undefined : toUnsigned64(options.initial, 'initial');
    const expiresAt = expiresAtMs(options?.ttl ?? 0, this.#now());
    const item = this.#live(ref);
    const stat = increment ? 'incr' : 'decr';
    if (!item) {
      this.#stats[`${stat}_misses`]++;
      if (initial === undefined) return undefined;
      // `ma … N<ttl> J<initial>`: created with the initial value, no delta applied.
      const bytes = Buffer.from(initial.toString(), 'latin1');
      this.#write(ref, { format: SERVER_CREATED_FORMAT, bytes, expiresAt });
      return Number(initial);
    }
    const current = parseCounter(item.bytes);
    if (current === undefined) {
      throw new CacheInputError('cannot increment or decrement a non-numeric value');
    }
    const next = applyDelta(current, amount, increment);
    this.#stats[`${stat}_hits`]++;
    // In place on memcached: the item's flags and expiry stay.
    this.#write(ref, {
      format: item.format,
      bytes: counterBytes(item.bytes, next),
      expiresAt: item.expiresAt,
      stale: item.stale,
      tokenSent: item.tokenSent,
    });
    this.#items.bump(ref.id);
    return Number(next);
  }
}
