/**
 * `getItems` over a collection held in memory (a cache entry): the filters,
 * orders and `next_offset` tokens of the SQL backend (seed 001
 * `encode_next_offset`/`decode_offset`), so that paging works the same
 * whichever layer answers and a token from one page is accepted by the next.
 *
 * Time-sorted tokens are `bound:skip`: the `modified` of the last item
 * returned and how many items at exactly that time were returned. Index
 * order uses a plain numeric offset.
 */
import { InvalidOffsetError } from '../errors.js';
import type { Bso, FindOptions, FindResult, SortOrder } from '../sync-storage.js';
import { isExpired, ownItem } from './collection-data.js';

const TIME_TOKEN = /^(0|[1-9]\d{0,15}):(0|[1-9]\d{0,9})$/;
const INDEX_TOKEN = /^(0|[1-9]\d{0,9})$/;

type Position = { kind: 'time'; bound: number; skip: number } | { kind: 'index'; skip: number };

function decode(token: string, sort: SortOrder, options: FindOptions): Position {
  if (sort === 'index') {
    const match = INDEX_TOKEN.exec(token);
    if (!match) throw new InvalidOffsetError(token);
    return { kind: 'index', skip: Number(match[1]) };
  }
  const match = TIME_TOKEN.exec(token);
  if (!match) throw new InvalidOffsetError(token);
  const bound = Number(match[1]);
  if (!Number.isSafeInteger(bound)) throw new InvalidOffsetError(token);
  // The bound is one returned item's time, so it lies strictly inside the filter.
  if (options.newer !== undefined && bound <= options.newer) throw new InvalidOffsetError(token);
  if (options.older !== undefined && bound >= options.older) throw new InvalidOffsetError(token);
  return { kind: 'time', bound, skip: Number(match[2]) };
}

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

function encodeNext(
  sort: SortOrder,
  position: Position | undefined,
  page: Bso[],
  next: Bso,
): string {
  if (sort === 'index') return String((position?.skip ?? 0) + page.length);
  const last = page.at(-1);
  if (!last) {
    if (position?.kind === 'time') return `${position.bound}:${position.skip}`;
    return `${next.modified}:0`;
  }
  let same = 0;
  for (let i = page.length - 1; i >= 0 && page[i]!.modified === last.modified; i--) same++;
  if (same === page.length && position?.kind === 'time' && position.bound === last.modified) {
    same += position.skip;
  }
  return `${last.modified}:${same}`;
}

export function findItems(
  items: Record<string, Bso>,
  options: FindOptions,
  nowSeconds: number,
): FindResult<Bso> {
  const sort: SortOrder = options.sort ?? 'newest';
  const position = options.offset === undefined ? undefined : decode(options.offset, sort, options);
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
  return { items: page, nextOffset: encodeNext(sort, position, page, matches[limit]!) };
}
