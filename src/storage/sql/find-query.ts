/**
 * The one query behind `getItems` / `getItemIds`: filters, a total order
 * (id breaks ties, so offsets are exact), and the page position from a
 * `next_offset` token. For time sorts the token's bound turns into an index
 * range (`modified <= bound`), so a late page skips only the few rows that
 * share the bound's timestamp.
 */
import type { CheckedFind } from '../input-checks.js';
import type { Bso } from '../sync-storage.js';
import { MAX_TTL } from './sql-schema.js';
import type { PagePosition } from '../paging-token.js';
import type { SqlDialect, SqlValue } from '../../sql/sql-types.js';

export interface FindQueryInput {
  table: string;
  userId: number;
  collectionId: number;
  nowSeconds: number;
  find: CheckedFind;
  position: PagePosition | undefined;
  /** `FindShape.columns`. */
  columns: string;
  dialect: SqlDialect;
}

export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/**
 * What a find selects, and how one of its rows, read as an array
 * (`SqlExecutor.rows`), becomes an item: the column order lives here only.
 * An object literal of one shape is cheaper than the driver's row objects
 * (about a quarter of a 100-row read in better-sqlite3).
 */
export interface FindShape<T extends { modified: number }> {
  readonly columns: string;
  readonly toItem: (values: readonly SqlValue[]) => T;
}

/** Full BSOs, as `getItems` returns them. */
export const FULL_BSOS: FindShape<Bso> = {
  columns: 'id, modified, payload, sortindex, ttl',
  toItem: (values) => ({
    id: String(values[0]),
    modified: Number(values[1]),
    payload: String(values[2] ?? ''),
    sortindex: values[3] === null || values[3] === undefined ? null : Number(values[3]),
    expiry: values[4] === null || values[4] === undefined ? MAX_TTL : Number(values[4]),
  }),
};

/** What ids and paging need. */
export const BSO_IDS: FindShape<{ id: string; modified: number }> = {
  columns: 'id, modified',
  toItem: (values) => ({ id: String(values[0]), modified: Number(values[1]) }),
};

export function findQuery(input: FindQueryInput): { sql: string; params: SqlValue[] } {
  const { find, position } = input;
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
      ? `${input.dialect.descNullsLast('sortindex')}, id DESC`
      : find.sort === 'oldest'
        ? 'modified ASC, id ASC'
        : 'modified DESC, id DESC';
  // One row past the limit tells whether another page exists.
  const limit = find.limit === undefined ? 2_147_483_647 : find.limit + 1;
  params.push(limit, skip);
  return {
    sql: `SELECT ${input.columns} FROM ${input.table} WHERE ${where.join(' AND ')}
          ORDER BY ${order} LIMIT ? OFFSET ?`,
    params,
  };
}
