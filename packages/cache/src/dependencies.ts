/**
 * Dependency lists: `set(key, value, { dependencies })` records the entry's
 * store key under each dependency (per namespace), and invalidating a
 * dependency deletes every entry listed there and the list itself.
 *
 * The list lives in one store record per (version, namespace, dependency),
 * updated with a CAS loop (`cas-update.ts`) — the seed appended without CAS
 * and lost entries when two processes appended at once. Invalidation deletes
 * the listed entries, then the list only if its CAS is unchanged; if someone
 * appended meanwhile, it goes round again, so no entry escapes.
 *
 * A list lives as long as its longest-lived entry, and drops expired entries
 * whenever it is rewritten, so lists do not grow without bound.
 */
import type { CacheStore } from '@syncstorage-ts/memcache';
import { casUpdate } from './cas-update.js';
import { encodeKey } from './canonical-key.js';
import { internalKey } from './key-builder.js';
import { ttlUntil } from './lifetime.js';

/** One entry that named a dependency; also what key tracking needs to forget it. */
export interface DependentEntry {
  /** The entry's store key. */
  s: string;
  /** The canonical key (or the raw key string). */
  k: string;
  /** 1 for a raw key. */
  r?: 1;
  /** The entry's groups, if any. */
  g?: string[];
  /** Expiry in Unix seconds, 0 = never. */
  e: number;
  /** 1 if the writer tracked the key, so invalidation must untrack it. */
  t?: 1;
}

interface DependencyRecord {
  e: number;
  entries: DependentEntry[];
}

export class DependencyIndex {
  constructor(
    private readonly store: CacheStore,
    private readonly version: string,
    private readonly now: () => number,
  ) {}

  key(namespace: string | null, dependency: unknown): string {
    return internalKey('dep', this.version, namespace, encodeKey(dependency));
  }

  /** Record `entry` under every dependency. Resolves false if a CAS loop gave up. */
  async add(
    namespace: string | null,
    dependencies: readonly unknown[],
    entry: DependentEntry,
  ): Promise<boolean> {
    const results = await Promise.all(
      dependencies.map((dep) =>
        casUpdate<DependencyRecord>(this.store, this.key(namespace, dep), (current) => {
          const entries = this.live(current).filter((other) => other.s !== entry.s);
          entries.push(entry);
          const e = entries.some((x) => x.e === 0) ? 0 : Math.max(...entries.map((x) => x.e));
          return { next: { e, entries }, ttl: ttlUntil(e, this.now()) ?? 1 };
        }),
      ),
    );
    return results.every(Boolean);
  }

  /** The store keys listed under `dependency`, in the order they were added. */
  async dependents(namespace: string | null, dependency: unknown): Promise<string[]> {
    const record = await this.store.get<DependencyRecord>(this.key(namespace, dependency));
    return this.live(record).map((entry) => entry.s);
  }

  /** Delete every entry listed under the dependencies, and the lists; resolves what was listed. */
  async invalidate(
    namespace: string | null,
    dependencies: readonly unknown[],
  ): Promise<DependentEntry[]> {
    const removed = await Promise.all(
      dependencies.map((dep) => this.invalidateOne(namespace, dep)),
    );
    return removed.flat();
  }

  private async invalidateOne(
    namespace: string | null,
    dependency: unknown,
  ): Promise<DependentEntry[]> {
    const key = this.key(namespace, dependency);
    const removed: DependentEntry[] = [];
    for (;;) {
      const current = await this.store.gets<DependencyRecord>(key);
      if (current === undefined) return removed;
      const entries = current.value?.entries ?? [];
      await Promise.all(entries.map((entry) => this.store.delete(entry.s)));
      removed.push(...entries);
      // Only a list nobody appended to since we read it may go.
      if (await this.store.delete(key, { cas: current.cas })) return removed;
    }
  }

  private live(record: DependencyRecord | undefined): DependentEntry[] {
    const nowSec = Math.floor(this.now() / 1000);
    return (record?.entries ?? []).filter((entry) => entry.e === 0 || entry.e > nowSec);
  }
}
