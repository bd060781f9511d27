/**
 * Input checked again at the storage boundary (the HTTP layer checks first),
 * so a library user of `SyncStorage` gets the same guarantees; failures are
 * `StorageInputError`, never a database error.
 */
import { StorageInputError } from './errors.js';
import { isValidBsoId, isValidCollectionName, isValidSortindex, isValidTtl } from './bso-rules.js';
import { isCheckedBso } from './checked-bso.js';
import type { BsoInput, FindOptions, SortOrder, UserId } from './sync-storage.js';

const SORTS: ReadonlySet<string> = new Set(['newest', 'oldest', 'index']);
/** More ids than any request may carry (100 on the wire) but bounded for SQL. */
const MAX_IDS = 1000;

export function checkUserId(userId: UserId): void {
  if (!Number.isSafeInteger(userId) || userId <= 0) {
    throw new StorageInputError(`invalid user id: ${String(userId)}`);
  }
}

export function checkCollection(name: string): void {
  if (!isValidCollectionName(name)) {
    throw new StorageInputError(`invalid collection name: ${JSON.stringify(name)}`);
  }
}

export function checkItemId(id: string): void {
  if (!isValidBsoId(id)) throw new StorageInputError(`invalid item id: ${JSON.stringify(id)}`);
}

export function checkIds(ids: readonly string[]): void {
  if (!Array.isArray(ids) || ids.length > MAX_IDS) {
    throw new StorageInputError(`ids must be an array of at most ${MAX_IDS} ids`);
  }
  for (const id of ids) checkItemId(id);
}

function isTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export interface CheckedFind {
  newer?: number;
  older?: number;
  ids?: readonly string[];
  sort: SortOrder;
  limit?: number;
  offset?: string;
}

export function checkFindOptions(options: FindOptions = {}): CheckedFind {
  const { newer, older, ids, sort = 'newest', limit, offset } = options;
  if (newer !== undefined && !isTimestamp(newer)) throw new StorageInputError('invalid newer');
  if (older !== undefined && !isTimestamp(older)) throw new StorageInputError('invalid older');
  if (!SORTS.has(sort)) throw new StorageInputError(`invalid sort: ${String(sort)}`);
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new StorageInputError('invalid limit');
  }
  if (offset !== undefined && typeof offset !== 'string') {
    throw new StorageInputError('invalid offset');
  }
  if (ids !== undefined) checkIds(ids);
  return { newer, older, ids, sort, limit, offset };
}

/**
 * Validate BSOs to write; `modified` and unknown fields are not ours to check
 * here. BSOs checked at the HTTP boundary (`checked-bso.ts`) are not checked again.
 */
export function checkBsoInputs(items: readonly BsoInput[]): void {
  if (!Array.isArray(items)) throw new StorageInputError('items must be an array');
  for (const item of items) checkBsoFields(item);
}

export function checkBsoFields(item: BsoInput): void {
  if (typeof item !== 'object' || item === null) throw new StorageInputError('invalid bso');
  if (isCheckedBso(item)) return;
  checkItemId(item.id);
  if (item.payload !== undefined && typeof item.payload !== 'string') {
    throw new StorageInputError(`invalid payload for ${item.id}`);
  }
  const { sortindex, ttl } = item;
  if (sortindex !== undefined && sortindex !== null && !isValidSortindex(sortindex)) {
    throw new StorageInputError(`invalid sortindex for ${item.id}`);
  }
  if (ttl !== undefined && ttl !== null && !isValidTtl(ttl)) {
    throw new StorageInputError(`invalid ttl for ${item.id}`);
  }
}
