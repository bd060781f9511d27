/**
 * Nonces in memcached, so a request captured on its way to one server
 * process cannot be replayed on another inside the skew window (issue 13,
 * case 4). One atomic `add` per request: it succeeds only for the first
 * process that records the nonce. The memcached client pipelines the adds of
 * concurrent requests on its connections, so this costs one round trip of
 * latency per request, not per nonce in flight.
 *
 * The in-process `NonceCache` still answers first (it is free and refuses a
 * replay on the same process even while memcached is away). If memcached is
 * unreachable the request is let through on the local check alone: writes
 * are refused then anyway (the cached layer fails closed), and refusing every
 * request would turn a cache outage into a full one. Logged once per outage
 * by the storage layer's cache logger.
 */
import { createHash } from 'node:crypto';
import { type CacheStore, CacheError } from '@syncstorage-ts/memcache';

export interface SharedNonceOptions {
  store: CacheStore;
  /** The skew window, seconds: a nonce is kept for 2 × window + 1 s, as its ts is acceptable that long. */
  windowSeconds: number;
  /** Prepended to every key (a shared memcached). Default "". */
  keyPrefix?: string;
}

export class SharedNonces {
  readonly #store: CacheStore;
  readonly #ttl: number;
  readonly #prefix: string;

  constructor(options: SharedNonceOptions) {
    this.#store = options.store;
    this.#ttl = 2 * options.windowSeconds + 1;
    this.#prefix = `${options.keyPrefix ?? ''}nonce:`;
  }

  /**
   * Record `key` (token tag and nonce) under its `ts`; false when another
   * process (or this one) already did. True when memcached is unreachable.
   */
  async checkAndAdd(ts: number, key: string): Promise<boolean> {
    // The nonce is the client's text: a digest keeps the key short and free of spaces.
    const digest = createHash('sha256').update(`${ts}:${key}`).digest('base64url').slice(0, 22);
    try {
      return await this.#store.add(this.#prefix + digest, '1', { ttl: this.#ttl });
    } catch (error) {
      if (error instanceof CacheError) return true;
      throw error;
    }
  }
}
