/**
 * The per-user metadata entry (seed 000): total size, when it was last
 * recalculated, the storage timestamp and every collection's timestamp, in
 * one key so it changes atomically. It answers info/collections without the
 * database.
 *
 * Writers mark their collection dirty (`null`) with CAS before writing and
 * store the outcome after. Two things the seed got wrong are done better:
 *
 * - seed bug: the post-write update was a plain `set` of the writer's own
 *   copy, which wipes a dirty mark another writer placed meanwhile (and, if
 *   that writer then dies, serves its collection's old timestamp forever).
 *   Here every update is a CAS loop that changes only its own collection,
 *   and `pending` counts writes in flight per collection: a collection is
 *   clean again only when its last writer finishes, and only if no writes
 *   overlapped (else readers re-read it from the database).
 * - seed bug: a collection left dirty by a crash stayed dirty (every read of
 *   it hit the database) until the next write. Here a reader that has just
 *   read the truth from the database writes it back (CAS) once no write is in
 *   flight, or once the dirty mark is older than the lock TTL (its writer is
 *   dead).
 *
 * Issue 13: an entry lives at most `entryLifetime` seconds from its rebuild
 * (`born`), however often it is updated since; then it is rebuilt from the
 * database. That bounds what no process can see to repair: an entry rebuilt
 * from the database while a write was in flight, after memcached lost the
 * writer's dirty mark (a restart), by a writer that then died.
 */
import { type CasAccess, casUpdate, type CasUpdateOptions } from '@syncstorage-ts/cache';
import { ConflictError } from '../errors.js';
import type { UserId } from '../sync-storage.js';
import type { CacheKeys } from './cache-keys.js';
import type { GuardedCache } from './guarded-cache.js';

export interface Metadata {
  /** Approximate bytes of all payloads. */
  size: number;
  /** Seconds since the epoch of the last recalculation; 0 = never. */
  last_size_recalc: number;
  /** Storage timestamp (ms); null while any collection is dirty. */
  modified: number | null;
  /** Collection → timestamp (ms), or null while dirty. */
  collections: Record<string, number | null>;
  /** The storage timestamp is at least this (ms): survives deleted collections. */
  floor: number;
  /** Seconds since the epoch of the rebuild from the database that started this entry. */
  born: number;
  /** Collection → writes in flight. */
  pending: Record<string, number>;
  /** Collection → seconds when it became dirty. */
  dirty_since: Record<string, number>;
  /** Collections whose writes overlapped: their outcome is read from the database. */
  overlap: Record<string, true>;
}

/** What the database (and cache-only entries) say, for a rebuild. */
export interface MetadataSource {
  collectionTimestamps(userId: UserId): Promise<Record<string, number>>;
  storageTimestamp(userId: UserId): Promise<number>;
}

export type WriteOutcome =
  | { kind: 'done'; collectionTs: number | null; storageTs: number; sizeDelta: number }
  | { kind: 'rollback' }
  | { kind: 'unknown' };

export interface MetadataSnapshot {
  metadata: Metadata;
  /** Undefined when just rebuilt (nothing to heal then). */
  cas: bigint | undefined;
}

export interface DirtyMark {
  collection: string;
  /** The collection's timestamp before the write (undefined: it did not exist or was dirty). */
  before: number | undefined;
  /** The storage timestamp before the write (a lower bound while something was dirty). */
  storageBefore: number;
}

/**
 * CAS rounds before giving up. Concurrent writes of one user race for the
 * one metadata key; each round one of them wins, so a dozen concurrent
 * writers need about a dozen rounds. A short random pause spreads them.
 */
const CAS_OPTIONS: CasUpdateOptions = {
  attempts: 40,
  pause: () => new Promise((resolve) => setTimeout(resolve, Math.random() * 4)),
};

function isRecordOf(value: unknown, check: (v: unknown) => boolean): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every(check)
  );
}

export function isMetadata(value: unknown): value is Metadata {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  const num = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
  return (
    num(m.size) &&
    num(m.last_size_recalc) &&
    num(m.floor) &&
    num(m.born) &&
    (m.modified === null || num(m.modified)) &&
    isRecordOf(m.collections, (v) => v === null || num(v)) &&
    isRecordOf(m.pending, num) &&
    isRecordOf(m.dirty_since, num) &&
    isRecordOf(m.overlap, (v) => v === true)
  );
}

function withoutKey<T>(record: Record<string, T>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

/** The storage timestamp, or null while anything is dirty. */
function storageModified(m: Metadata): number | null {
  let max = m.floor;
  for (const ts of Object.values(m.collections)) {
    if (ts === null) return null;
    max = Math.max(max, ts);
  }
  return max;
}

export class MetadataStore {
  constructor(
    private readonly cache: GuardedCache,
    private readonly keys: CacheKeys,
    private readonly source: MetadataSource,
    private readonly clock: () => number,
    private readonly lockTtl: number,
    /** Seconds an entry lives from its rebuild before it is rebuilt again. */
    private readonly entryLifetime: number,
  ) {
    this.access = cache.json(isMetadata, { shared: true });
  }

  /** The metadata entries as the cache package's CAS loop sees them. */
  private readonly access: CasAccess<Metadata>;

  private nowSeconds(): number {
    return Math.floor(this.clock() / 1000);
  }

  /** Past its lifetime: rebuilt from the database rather than trusted. */
  private expired(m: Metadata): boolean {
    return this.nowSeconds() - m.born >= this.entryLifetime;
  }

  /**
   * The metadata, rebuilt from the database if missing, with the CAS token
   * it was read with (a `heal` must be based on what was read before the
   * database was asked, so a write that finished in between wins).
   */
  async read(userId: UserId): Promise<MetadataSnapshot> {
    const hit = await this.cache.gets(this.keys.metadata(userId), isMetadata, { shared: true });
    if (hit?.value && !this.expired(hit.value)) return { metadata: hit.value, cas: hit.cas };
    return { metadata: await this.rebuild(userId, hit?.cas, hit?.value), cas: undefined };
  }

  /**
   * Read everything from the source and store it unless someone stored
   * metadata meanwhile (`add`, or CAS over an undecodable value): a rebuild
   * that lost the race may be older than what won.
   */
  private async rebuild(
    userId: UserId,
    overCas?: bigint,
    expired?: Metadata | null,
  ): Promise<Metadata> {
    const metadata = await this.fromSource(userId, expired);
    const key = this.keys.metadata(userId);
    if (overCas === undefined) await this.cache.add(key, metadata);
    else await this.cache.cas(key, metadata, overCas);
    return metadata;
  }

  /** A fresh entry from the database (and cache-only entries). */
  private async fromSource(userId: UserId, expired?: Metadata | null): Promise<Metadata> {
    const collections = await this.source.collectionTimestamps(userId);
    const storageTs = await this.source.storageTimestamp(userId);
    const floor = Math.max(storageTs, 0, ...Object.values(collections));
    return {
      // An entry that only outlived its lifetime keeps its size estimate.
      size: expired?.size ?? 0,
      last_size_recalc: expired?.last_size_recalc ?? 0,
      born: this.nowSeconds(),
      modified: floor,
      collections,
      floor,
      pending: {},
      dirty_since: {},
      overlap: {},
    };
  }

  /**
   * Mark `collection` dirty before a write. Throws `ConflictError` when the
   * CAS keeps losing to concurrent writers of the same user.
   */
  async markDirty(userId: UserId, collection: string): Promise<DirtyMark> {
    let mark: DirtyMark | undefined;
    const marked = await casUpdate(
      this.access,
      this.keys.metadata(userId),
      async (found) => {
        // Missing, undecodable or past its lifetime: marked on a fresh rebuild.
        const m = found && !this.expired(found) ? found : await this.fromSource(userId, found);
        const current = m.collections[collection];
        const inFlight = m.pending[collection] ?? 0;
        let storageBefore = m.floor;
        for (const ts of Object.values(m.collections)) {
          if (ts !== null) storageBefore = Math.max(storageBefore, ts);
        }
        mark = { collection, before: current ?? undefined, storageBefore };
        const next: Metadata = {
          ...m,
          modified: null,
          collections: { ...m.collections, [collection]: null },
          pending: { ...m.pending, [collection]: inFlight + 1 },
          dirty_since: {
            ...m.dirty_since,
            [collection]: m.dirty_since[collection] ?? this.nowSeconds(),
          },
          // A dirty collection without a write in flight was left by a failure:
          // its state is unknown, as when writes overlap.
          overlap:
            inFlight > 0 || current === null ? { ...m.overlap, [collection]: true } : m.overlap,
        };
        return { next, ttl: 0 };
      },
      CAS_OPTIONS,
    );
    if (!marked || !mark) {
      throw new ConflictError('concurrent write to the same storage (metadata CAS lost); retry');
    }
    return mark;
  }

  /** Record the outcome of a write marked with `mark`. Never throws a conflict. */
  async finish(userId: UserId, mark: DirtyMark, outcome: WriteOutcome): Promise<void> {
    const key = this.keys.metadata(userId);
    const c = mark.collection;
    const recorded = await casUpdate(
      this.access,
      key,
      (m) => {
        // Gone (evicted, flushed): the next reader rebuilds from the database.
        if (!m) return { next: undefined, ttl: 0 };
        const ours = m.collections[c] === null && (m.pending[c] ?? 0) > 0;
        const left = Math.max(0, (m.pending[c] ?? 0) - 1);
        let next: Metadata;
        if (left > 0) {
          next = {
            ...m,
            pending: { ...m.pending, [c]: left },
            overlap: { ...m.overlap, [c]: true },
          };
        } else if (!ours || m.overlap[c] || outcome.kind === 'unknown') {
          // Leave it dirty with nothing in flight: the next reader heals it.
          next = {
            ...m,
            collections: { ...m.collections, [c]: null },
            pending: withoutKey(m.pending, c),
            overlap: withoutKey(m.overlap, c),
          };
        } else {
          const ts = outcome.kind === 'done' ? outcome.collectionTs : (mark.before ?? null);
          const collections =
            ts === null ? withoutKey(m.collections, c) : { ...m.collections, [c]: ts };
          next = {
            ...m,
            collections,
            pending: withoutKey(m.pending, c),
            dirty_since: withoutKey(m.dirty_since, c),
            overlap: withoutKey(m.overlap, c),
            floor: outcome.kind === 'done' ? Math.max(m.floor, outcome.storageTs) : m.floor,
            size: outcome.kind === 'done' ? Math.max(0, m.size + outcome.sizeDelta) : m.size,
          };
        }
        next.modified = storageModified(next);
        return { next, ttl: 0 };
      },
      CAS_OPTIONS,
    );
    // Could not record the outcome: drop the entry, the database is the truth.
    if (!recorded) await this.cache.delete(key);
  }

  /**
   * Whether a dirty collection may be healed now: no write in flight, or the
   * dirty mark outlived the lock TTL (its writer died).
   */
  canHeal(m: Metadata, collection: string): boolean {
    if ((m.pending[collection] ?? 0) === 0) return true;
    const since = m.dirty_since[collection] ?? 0;
    return this.nowSeconds() - since > this.lockTtl;
  }

  /**
   * Write back the truth read from the database for dirty collections
   * (`ts` undefined: the collection does not exist). Best effort: a lost
   * CAS means a writer got there first, and it will set things right.
   */
  async heal(
    userId: UserId,
    snapshot: MetadataSnapshot,
    truths: Record<string, number | undefined>,
    storageTs?: number,
  ): Promise<void> {
    if (snapshot.cas === undefined) return;
    const key = this.keys.metadata(userId);
    let m = snapshot.metadata;
    let changed = false;
    for (const [c, ts] of Object.entries(truths)) {
      if (m.collections[c] !== null || !this.canHeal(m, c)) continue;
      m = {
        ...m,
        collections:
          ts === undefined ? withoutKey(m.collections, c) : { ...m.collections, [c]: ts },
        pending: withoutKey(m.pending, c),
        dirty_since: withoutKey(m.dirty_since, c),
        overlap: withoutKey(m.overlap, c),
      };
      changed = true;
    }
    if (storageTs !== undefined && storageTs > m.floor) {
      m = { ...m, floor: storageTs };
      changed = true;
    }
    const modified = storageModified(m);
    if (modified !== m.modified) {
      m = { ...m, modified };
      changed = true;
    }
    if (changed) await this.cache.cas(key, m, snapshot.cas);
  }

  /**
   * Drop a clean collection whose data vanished (a cache-only entry evicted),
   * if the metadata is still as read in `snapshot`. The storage timestamp
   * keeps its value: it never goes back.
   */
  async forget(userId: UserId, snapshot: MetadataSnapshot, collection: string): Promise<void> {
    const ts = snapshot.metadata.collections[collection];
    if (snapshot.cas === undefined || typeof ts !== 'number') return;
    const m = snapshot.metadata;
    const next: Metadata = {
      ...m,
      collections: withoutKey(m.collections, collection),
      floor: Math.max(m.floor, ts),
    };
    next.modified = storageModified(next);
    await this.cache.cas(this.keys.metadata(userId), next, snapshot.cas);
  }

  /** Store a freshly computed total size (best effort). */
  async storeSize(userId: UserId, size: number): Promise<void> {
    const key = this.keys.metadata(userId);
    const hit = await this.cache.gets(key, isMetadata, { shared: true });
    if (!hit?.value) return;
    await this.cache.cas(key, { ...hit.value, size, last_size_recalc: this.nowSeconds() }, hit.cas);
  }
}
