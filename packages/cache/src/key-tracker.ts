/**
 * Key tracking: memcached cannot list its keys, so a tracking cache keeps,
 * per namespace, one record of the keys set through it by any process
 * sharing the store. The record is updated with a CAS loop and its entries
 * carry their expiry, so expired keys drop out; `Cache.keys()` also checks
 * that each listed entry still exists, which honours invalidation,
 * dependency invalidation and LRU eviction.
 *
 * Bounded: at most `maxKeys` entries per namespace (option `maxTrackedKeys`,
 * default 1,000); beyond that the entries that expire soonest are dropped
 * from the record (their values stay cached, just unlisted).
 *
 * Hashed and raw keys of a namespace are kept in two records (the first is
 * renamed by every generation bump, so invalidateAll empties it in O(1)).
 *
 * Cost: a tracked `set` adds one `gets` + one `cas`/`add` (more under write
 * contention); `keys()` costs one `getMulti` of the two records + one
 * `getMulti` of the listed entry keys (at most 2 × `maxKeys`).
 */
import type { CacheStore } from '@syncstorage-ts/memcache';
import { casUpdate } from './cas-update.js';
import { ttlUntil } from './lifetime.js';

export interface TrackedEntry {
  /** Canonical key, or the raw key string. */
  k: string;
  r?: 1;
  g?: string[];
  /** Expiry in Unix seconds, 0 = never. */
  e: number;
}

interface TrackerRecord {
  entries: TrackedEntry[];
}

export function trackedIdentity(entry: Pick<TrackedEntry, 'k' | 'r' | 'g'>): string {
  return JSON.stringify([entry.k, entry.r ?? 0, entry.g ?? []]);
}

export class KeyTracker {
  constructor(
    private readonly store: CacheStore,
    private readonly maxKeys: number,
    private readonly now: () => number,
  ) {}

  async track(recordKey: string, entry: TrackedEntry): Promise<boolean> {
    const identity = trackedIdentity(entry);
    return casUpdate<TrackerRecord>(this.store, recordKey, (current) => {
      const entries = this.live(current).filter((other) => trackedIdentity(other) !== identity);
      entries.push(entry);
      if (entries.length > this.maxKeys) {
        // Keep the longest-lived; among equals, the most recent (stable sort).
        const order = entries.map((x, i) => [x.e === 0 ? Infinity : x.e, i] as const);
        order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        const drop = new Set(order.slice(0, entries.length - this.maxKeys).map(([, i]) => i));
        return this.write(entries.filter((_, i) => !drop.has(i)));
      }
      return this.write(entries);
    });
  }

  async untrack(recordKey: string, identities: ReadonlySet<string>): Promise<boolean> {
    if (identities.size === 0) return true;
    return casUpdate<TrackerRecord>(this.store, recordKey, (current) => {
      if (current === undefined) return { next: undefined, ttl: 0 };
      const entries = this.live(current).filter((x) => !identities.has(trackedIdentity(x)));
      return this.write(entries);
    });
  }

  /** Live entries of the records (one getMulti). */
  async list(recordKeys: readonly string[]): Promise<TrackedEntry[]> {
    const records = await this.store.getMulti<TrackerRecord>(recordKeys);
    return records.flatMap((record) => this.live(record));
  }

  private write(entries: TrackedEntry[]): { next: TrackerRecord; ttl: number | undefined } {
    const e = entries.some((x) => x.e === 0) ? 0 : Math.max(0, ...entries.map((x) => x.e));
    // An empty record is deleted (ttl undefined) rather than kept forever.
    const ttl = entries.length === 0 ? undefined : ttlUntil(e, this.now());
    return { next: { entries }, ttl };
  }

  private live(record: TrackerRecord | undefined): TrackedEntry[] {
    const nowSec = Math.floor(this.now() / 1000);
    return (record?.entries ?? []).filter((entry) => entry.e === 0 || entry.e > nowSec);
  }
}
