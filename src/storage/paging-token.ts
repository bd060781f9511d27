/**
 * `next_offset` tokens. For sort by time the token is `bound:offset`: the
 * `modified` of the last item returned, and how many items with exactly
 * that timestamp were already returned. The next page seeks with
 * `modified <= bound` (newest) or `>= bound` (oldest) through the index and
 * skips only `offset` rows, so page 100 costs about what page 1 costs. For
 * `sort=index` there is no usable index and the token is a plain row offset.
 *
 * Tokens are parsed strictly: anything we could not have produced is an
 * `InvalidOffsetError`, never a crash or a page from the wrong place.
 *
 * One module for every layer (SQL queries, the cached layer's in-memory
 * pages: seed 001 `encode_next_offset`/`decode_offset`), so a token from
 * one page is accepted — or refused — the same whichever layer answers.
 */
import { InvalidOffsetError } from './errors.js';
import type { SortOrder } from './sync-storage.js';

/** Offsets beyond this are refused (a page is at most a few thousand rows). */
const MAX_OFFSET = 1_000_000_000;
const TIME_TOKEN = /^(0|[1-9]\d{0,15}):(0|[1-9]\d{0,9})$/;
const INDEX_TOKEN = /^(0|[1-9]\d{0,9})$/;

export type PagePosition =
  { kind: 'time'; bound: number; skip: number } | { kind: 'index'; skip: number };

export function decodeOffset(
  token: string,
  sort: SortOrder,
  filters: { newer?: number; older?: number },
): PagePosition {
  if (sort === 'index') {
    const match = INDEX_TOKEN.exec(token);
    const skip = match ? Number(match[1]) : NaN;
    if (!(skip <= MAX_OFFSET)) throw new InvalidOffsetError(token);
    return { kind: 'index', skip };
  }
  const match = TIME_TOKEN.exec(token);
  if (!match) throw new InvalidOffsetError(token);
  const bound = Number(match[1]);
  const skip = Number(match[2]);
  if (!Number.isSafeInteger(bound) || skip > MAX_OFFSET) throw new InvalidOffsetError(token);
  // Every item of the query lies strictly between newer and older, and the
  // bound is one item's timestamp: a bound outside is not one of ours.
  if (filters.newer !== undefined && bound <= filters.newer) throw new InvalidOffsetError(token);
  if (filters.older !== undefined && bound >= filters.older) throw new InvalidOffsetError(token);
  return { kind: 'time', bound, skip };
}

/**
 * The token for the page after `page` (the items returned, in order).
 * `lookahead` is the first item not returned (used when the page is empty,
 * as with `limit=0`).
 */
export function encodeNextOffset(
  sort: SortOrder,
  position: PagePosition | undefined,
  page: readonly { modified: number }[],
  lookahead: { modified: number },
): string {
  if (sort === 'index') {
    const done = position?.kind === 'index' ? position.skip : 0;
    return String(done + page.length);
  }
  const last = page.at(-1);
  if (!last) {
    // Nothing returned (limit=0): the next page starts where this one did.
    if (position?.kind === 'time') return `${position.bound}:${position.skip}`;
    return `${lookahead.modified}:0`;
  }
  const bound = last.modified;
  let same = 0;
  for (let i = page.length - 1; i >= 0 && page[i]!.modified === bound; i--) same++;
  // The whole page shared one timestamp with the previous bound: the rows
  // skipped to reach this page are still at that timestamp.
  if (same === page.length && position?.kind === 'time' && position.bound === bound) {
    same += position.skip;
  }
  return `${bound}:${same}`;
}
