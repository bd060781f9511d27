/**
 * A collection as it is kept in the cache (seed 000 docstring): its
 * last-modified time and its items by id. Items carry absolute expiry
 * seconds, exactly as the SQL layout keeps them, so an entry rebuilt from the
 * database and one built by writes look the same.
 */
import type { Bso, BsoInput } from '../sync-storage.js';
import { payloadByteLength } from '../checked-bso.js';

/** The expiry of an item that never expires (the SQL layout's `MAX_TTL`). */
export const NEVER_EXPIRES = 2_100_000_000;

export interface CollectionData {
  modified: number;
  items: Record<string, Bso>;
}

function isBso(value: unknown): value is Bso {
  if (typeof value !== 'object' || value === null) return false;
  const bso = value as Record<string, unknown>;
  return (
    typeof bso.id === 'string' &&
    typeof bso.modified === 'number' &&
    typeof bso.payload === 'string' &&
    (bso.sortindex === null || typeof bso.sortindex === 'number') &&
    typeof bso.expiry === 'number'
  );
}

/** Whether a decoded cache value is a well-formed collection entry. */
export function isCollectionData(value: unknown): value is CollectionData {
  if (typeof value !== 'object' || value === null) return false;
  const data = value as Record<string, unknown>;
  if (typeof data.modified !== 'number') return false;
  if (typeof data.items !== 'object' || data.items === null) return false;
  return Object.values(data.items).every(isBso);
}

/** Item ids are any printable ASCII, `__proto__` and `toString` included. */
export function itemRecord(from?: Record<string, Bso>): Record<string, Bso> {
  const record = Object.create(null) as Record<string, Bso>;
  if (from) for (const id of Object.keys(from)) record[id] = from[id]!;
  return record;
}

export function ownItem(items: Record<string, Bso>, id: string): Bso | undefined {
  return Object.hasOwn(items, id) ? items[id] : undefined;
}

export function isExpired(bso: Bso, nowSeconds: number): boolean {
  return bso.expiry <= nowSeconds;
}

export function payloadBytes(items: readonly { payload?: string }[]): number {
  let size = 0;
  for (const item of items) size += payloadByteLength(item);
  return size;
}

/**
 * Apply a write of `items` at `modified` (ms) to a copy of `data`, as the
 * SQL backend applies it: fields not given are kept, a new item gets an
 * empty payload, and `modified` moves only when the payload changes
 * (seed 001 `_prepare_bso_row`). Expired items are dropped (seed 000 purges
 * on write, as there is no way to enumerate users for a purge job).
 */
export function applySet(
  data: CollectionData | undefined,
  items: readonly BsoInput[],
  modified: number,
  nowSeconds: number,
): { data: CollectionData; created: string[] } {
  const next = itemRecord();
  for (const [id, bso] of Object.entries(data?.items ?? {})) {
    if (!isExpired(bso, nowSeconds)) next[id] = bso;
  }
  const ttlBase = Math.floor(modified / 1000);
  const created: string[] = [];
  for (const item of items) {
    const old = ownItem(next, item.id);
    const expiry =
      item.ttl === undefined
        ? (old?.expiry ?? NEVER_EXPIRES)
        : item.ttl === null
          ? NEVER_EXPIRES
          : ttlBase + item.ttl;
    if (!old) created.push(item.id);
    next[item.id] = {
      id: item.id,
      payload: item.payload ?? old?.payload ?? '',
      modified: !old || item.payload !== undefined ? modified : old.modified,
      sortindex: item.sortindex !== undefined ? item.sortindex : (old?.sortindex ?? null),
      expiry,
    };
  }
  return { data: { modified: Math.max(modified, data?.modified ?? 0), items: next }, created };
}

/** Remove `ids`; returns the new entry and how many existed. */
export function applyDelete(
  data: CollectionData,
  ids: readonly string[],
  modified: number,
): { data: CollectionData; deleted: number } {
  const next = itemRecord(data.items);
  let deleted = 0;
  for (const id of ids) {
    if (Object.hasOwn(next, id)) {
      delete next[id];
      deleted++;
    }
  }
  return { data: { modified: Math.max(modified, data.modified), items: next }, deleted };
}
