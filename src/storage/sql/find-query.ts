/**
 * The one query behind `getItems` / `getItemIds`: filters, a total order
 * (id breaks ties, so offsets are exact), and the page position from a
 * `next_offset` token. For time sorts the token's bound turns into an index
 * range (`modified <= bound`), so a late page skips only the few rows that
 * share the bound's timestamp.
 */
import type { CheckedFind } from '../input-checks.js';
import type { PagePosition } from './paging-token.js';
import type { SqlValue } from './sql-types.js';

export interface FindQueryInput {
  table: string;
  userId: number;
  collectionId: number;
  nowSeconds: number;
  find: CheckedFind;
  position: PagePosition | undefined;
  /** Full BSOs, or only what ids and paging need. */
  full: boolean;
}

export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/** A row of a find: full BSOs, or only what ids and paging need. */
export interface FoundRow {
  id: string;
  modified: number;
  payload?: string;
  sortindex: number | null;
  ttl?: number;
}

/**
 * A row of `findQuery`'s SELECT, read as an array (`SqlExecutor.rows`), as
 * an object. The column order is the one `findQuery` selects; a literal of
 * one shape is cheaper than the driver's row objects (about a quarter of a
 * 100-row read in better-sqlite3).
 */
export function foundRow(values: readonly SqlValue[], full: boolean): FoundRow {
  const sortindex = full ? values[3] : values[2];
  const row: FoundRow = {
    id: String(values[0]),
    modified: Number(values[1]),
    sortindex: sortindex === null || sortindex === undefined ? null : Number(sortindex),
  };
  if (full) {
    row.payload = String(values[2] ?? '');
    const ttl = values[4];
    if (ttl !== null && ttl !== undefined) row.ttl = Number(ttl);
  }
  return row;
}

export function findQuery(input: FindQueryInput): { sql: string; params: SqlValue[] } {
  const { find, position } = input;
  // The order foundRow reads them in.
  const columns = input.full ? 'id, modified, payload, sortindex, ttl' : 'id, modified, sortindex';
  const where = ['userid = ?', 'collection = ?', 'ttl > ?'];
  const params: SqlValue[] = [input.userId, input.collectionId, input.nowSeconds];
  if (find.ids !== undefined) {
    if (find.ids.length === 0) where.push('1 = 0');
    else {
      where.push(`id IN (${placeholders(find.ids.length)})`);
      params.push(...find.ids);
    }
  }
  if (find.newer !== undefined) {
    where.push('modified > ?');
    params.push(find.newer);
  }
  if (find.older !== undefined) {
    where.push('modified < ?');
    params.push(find.older);
  }
  let skip = 0;
  if (position?.kind === 'time') {
    where.push(find.sort === 'oldest' ? 'modified >= ?' : 'modified <= ?');
    params.push(position.bound);
    skip = position.skip;
  } else if (position?.kind === 'index') {
    skip = position.skip;
  }
  const order =
    find.sort === 'index'
      ? 'sortindex DESC NULLS LAST, id DESC'
      : find.sort === 'oldest'
        ? 'modified ASC, id ASC'
        : 'modified DESC, id DESC';
  // One row past the limit tells whether another page exists.
  const limit = find.limit === undefined ? 2_147_483_647 : find.limit + 1;
  params.push(limit, skip);
  return {
    sql: `SELECT ${columns} FROM ${input.table} WHERE ${where.join(' AND ')}
          ORDER BY ${order} LIMIT ? OFFSET ?`,
    params,
  };
}
