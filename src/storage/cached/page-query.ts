/**
 * `getItems` over a collection held in memory (a cache entry): the filters,
 * orders and `next_offset` tokens of the SQL backend (seed 001
 * `encode_next_offset`/`decode_offset`), so that paging works the same
 * whichever layer answers and a token from one page is accepted by the next.
 *
 * The tokens are `../paging-token.ts`, shared with the SQL backend.
 */
import { decodeOffset, encodeNextOffset } from '../paging-token.js';
import type { Bso, FindOptions, FindResult, SortOrder } from '../sync-storage.js';
import { isExpired, ownItem } from './collection-data.js';

/** The SQL backend's total orders (sql-storage.ts `#findQuery`), ties broken by id. */
function compare(sort: SortOrder): (a: Bso, b: Bso) => number {
  const byId = (a: Bso, b: Bso): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  if (sort === 'oldest') return (a, b) => a.modified - b.modified || byId(a, b);
  if (sort === 'index') {
    // sortindex DESC NULLS LAST, id DESC
    return (a, b) =>
      (b.sortindex ?? Number.NEGATIVE_INFINITY) - (a.sortindex ?? Number.NEGATIVE_INFINITY) ||
      byId(b, a);
  }
  return (a, b) => b.modified - a.modified || byId(b, a);
}

export function findItems(
  items: Record<string, Bso>,
  options: FindOptions,
  nowSeconds: number,
): FindResult<Bso> {
  const sort: SortOrder = options.sort ?? 'newest';
  const position =
    options.offset === undefined ? undefined : decodeOffset(options.offset, sort, options);
  let candidates: Bso[];
  if (options.ids) {
    candidates = [];
    for (const id of new Set(options.ids)) {
      const bso = ownItem(items, id);
      if (bso) candidates.push(bso);
    }
  } else {
    candidates = Object.values(items);
  }
  const { newer, older } = options;
  let matches = candidates.filter(
    (bso) =>
      !isExpired(bso, nowSeconds) &&
      (newer === undefined || bso.modified > newer) &&
      (older === undefined || bso.modified < older),
  );
  matches.sort(compare(sort));
  if (position?.kind === 'index') {
    matches = matches.slice(position.skip);
  } else if (position?.kind === 'time') {
    const { bound } = position;
    matches = matches.filter((bso) =>
      sort === 'oldest' ? bso.modified >= bound : bso.modified <= bound,
    );
    let skip = 0;
    while (skip < position.skip && matches[skip]?.modified === bound) skip++;
    matches = matches.slice(skip);
  }
  const limit = options.limit;
  if (limit === undefined || matches.length <= limit) return { items: matches, nextOffset: null };
  const page = matches.slice(0, limit);
  return { items: page, nextOffset: encodeNextOffset(sort, position, page, matches[limit]!) };
}
