/**
 * Query parameters of collection requests (API.md "Query parameters").
 * A malformed value of a known parameter is 400 (code 1); unknown
 * parameters are ignored.
 */
import { isValidBsoId } from '../../storage/bso-rules.js';
import { fromWire } from '../../storage/timestamps.js';
import type { FindOptions, SortOrder } from '../../storage/sync-storage.js';
import { HttpError } from '../errors/weave-errors.js';

export const MAX_IDS = 100;

export type Query = Record<string, string | string[] | undefined>;

/** One value of a parameter; a parameter given twice is malformed. */
export function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new HttpError('BAD_REQUEST', `${name} given more than once`);
  return value;
}

/** `ids=a,b,c`: each a valid BSO id, at most 100. */
export function parseIds(query: Query): string[] | undefined {
  const text = single(query, 'ids');
  if (text === undefined) return undefined;
  const ids = text.split(',').filter((id) => id !== '');
  if (ids.length > MAX_IDS) throw new HttpError('BAD_REQUEST', `more than ${MAX_IDS} ids`);
  if (!ids.every(isValidBsoId)) throw new HttpError('BAD_REQUEST', 'invalid id in ids');
  return ids;
}

function timestamp(query: Query, name: string): number | undefined {
  const text = single(query, name);
  if (text === undefined) return undefined;
  const ms = fromWire(text);
  if (ms === undefined) throw new HttpError('BAD_REQUEST', `invalid ${name}`);
  return ms;
}

const SORTS: readonly string[] = ['newest', 'oldest', 'index'];

export interface ListQuery extends FindOptions {
  full: boolean;
}

export function parseListQuery(query: Query): ListQuery {
  const options: ListQuery = { full: single(query, 'full') !== undefined };
  const ids = parseIds(query);
  if (ids !== undefined) options.ids = ids;
  const newer = timestamp(query, 'newer');
  if (newer !== undefined) options.newer = newer;
  const older = timestamp(query, 'older');
  if (older !== undefined) options.older = older;
  const sort = single(query, 'sort');
  if (sort !== undefined) {
    if (!SORTS.includes(sort)) throw new HttpError('BAD_REQUEST', 'invalid sort');
    options.sort = sort as SortOrder;
  }
  const limit = single(query, 'limit');
  if (limit !== undefined) {
    if (!/^\d{1,9}$/.test(limit)) throw new HttpError('BAD_REQUEST', 'invalid limit');
    options.limit = Number(limit);
  }
  const offset = single(query, 'offset');
  if (offset !== undefined) {
    if (offset === '' || offset.length > 256) throw new HttpError('BAD_REQUEST', 'invalid offset');
    options.offset = offset;
  }
  return options;
}
