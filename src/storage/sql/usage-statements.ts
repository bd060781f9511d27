/**
 * The running totals of `syncstorage_usage` (bytes and rows per user and
 * collection). Each write adds what it stores and subtracts what it
 * replaces or removes, in the statement before it changes the BSO rows and
 * in the same transaction, under the collection's write lock: concurrent
 * writers and other processes serialise on that lock, and the purge takes
 * it too (`expired-purge.ts`), so the totals stay exact. Expired rows count
 * until they are purged (the quota check recounts before refusing).
 */
import type { BsoInput } from '../sync-storage.js';
import type { Statement } from './bso-upsert.js';
import { placeholders } from './find-query.js';
import { USAGE_TABLE } from './sql-schema.js';
import type { SqlDialect, SqlValue } from '../../sql/sql-types.js';

/** Ids per statement when they are bound one by one. */
const IDS_PER_STATEMENT = 500;

export interface UsageTarget {
  bso: string;
  userId: number;
  collectionId: number;
  /** Its `bulkRows: 'arrays'`: ids bound as one array (`= ANY(?)`), as PostgreSQL binds rows. */
  dialect: SqlDialect;
}

function addOnConflict(dialect: SqlDialect): string {
  const fresh = dialect.inserted;
  return ` ${dialect.upsert(
    'userid, collection',
    `bytes = ${USAGE_TABLE}.bytes + ${fresh('bytes')}, items = ${USAGE_TABLE}.items + ${fresh('items')}`,
  )}`;
}

/**
 * `bytes += addBytes - SUM(bytesExpr)`, `items += addItems - COUNT(*)` over
 * the user's rows of the collection with the given ids that match `where`.
 */
function delta(
  target: UsageTarget,
  ids: readonly string[],
  change: { addBytes: number; addItems: number; bytesExpr: string; params: SqlValue[] },
  where = '',
  whereParams: SqlValue[] = [],
): Statement[] {
  const { bigintCast: int64, intCast: int32 } = target.dialect;
  const head = (idClause: string) =>
    `INSERT INTO ${USAGE_TABLE} (userid, collection, bytes, items)
     SELECT CAST(? AS ${int64}), CAST(? AS ${int32}),
       CAST(? AS ${int64}) - COALESCE(SUM(${change.bytesExpr}), 0), CAST(? AS ${int64}) - COUNT(*)
     FROM ${target.bso} WHERE userid = ? AND collection = ? AND ${idClause}${where}` +
    addOnConflict(target.dialect);
  const { userId, collectionId } = target;
  const params = (addBytes: number, addItems: number): SqlValue[] => [
    userId,
    collectionId,
    addBytes,
    ...change.params,
    addItems,
    userId,
    collectionId,
  ];
  if (target.dialect.bulkRows === 'arrays') {
    return [
      {
        sql: head('id = ANY(CAST(? AS TEXT[]))'),
        params: [...params(change.addBytes, change.addItems), ids, ...whereParams],
      },
    ];
  }
  const statements: Statement[] = [];
  for (let start = 0; start < ids.length; start += IDS_PER_STATEMENT) {
    const chunk = ids.slice(start, start + IDS_PER_STATEMENT);
    // What is added is added once, with the first chunk.
    const first = start === 0;
    statements.push({
      sql: head(`id IN (${placeholders(chunk.length)})`),
      params: [
        ...params(first ? change.addBytes : 0, first ? change.addItems : 0),
        ...chunk,
        ...whereParams,
      ],
    });
  }
  return statements;
}

/**
 * Before `bsoUpserts` of `items` (ids unique): a new payload replaces the
 * old one's bytes; a partial update of an expired row resets its payload
 * (so its bytes go); every id not stored yet is a new row.
 */
export function usageOfUpsert(
  target: UsageTarget,
  items: readonly BsoInput[],
  nowSeconds: number,
): Statement[] {
  const withPayload = items.filter((item) => item.payload !== undefined);
  const partial = items.filter((item) => item.payload === undefined);
  const statements: Statement[] = [];
  if (withPayload.length > 0) {
    const addBytes = withPayload.reduce(
      (sum, item) => sum + Buffer.byteLength(item.payload!, 'utf8'),
      0,
    );
    statements.push(
      ...delta(
        target,
        withPayload.map((item) => item.id),
        { addBytes, addItems: withPayload.length, bytesExpr: 'payload_size', params: [] },
      ),
    );
  }
  if (partial.length > 0) {
    statements.push(
      ...delta(
        target,
        partial.map((item) => item.id),
        {
          addBytes: 0,
          addItems: partial.length,
          bytesExpr: 'CASE WHEN ttl <= ? THEN payload_size ELSE 0 END',
          params: [nowSeconds],
        },
      ),
    );
  }
  return statements;
}

/** Before deleting the rows with these ids (those with `ttl > aliveAfter` only, when given). */
export function usageOfDelete(
  target: UsageTarget,
  ids: readonly string[],
  aliveAfter?: number,
): Statement[] {
  const change = { addBytes: 0, addItems: 0, bytesExpr: 'payload_size', params: [] };
  return aliveAfter === undefined
    ? delta(target, ids, change)
    : delta(target, ids, change, ' AND ttl > ?', [aliveAfter]);
}

/** Subtract rows already counted and deleted (the purge's). */
export function usageSubtract(
  userId: number,
  collectionId: number,
  bytes: number,
  items: number,
): Statement {
  return {
    sql: `UPDATE ${USAGE_TABLE} SET bytes = bytes - ?, items = items - ? WHERE userid = ? AND collection = ?`,
    params: [bytes, items, userId, collectionId],
  };
}

/**
 * Before `batchApplyStatements`: per batch item, a sent payload replaces the
 * stored bytes, an expired stored row without a new payload loses them (it
 * is deleted and inserted afresh), and an id not stored is a new row.
 */
export function usageOfBatchApply(
  target: UsageTarget,
  batchItems: string,
  batch: number,
  nowSeconds: number,
): Statement {
  const { bso, userId, collectionId, dialect } = target;
  return {
    sql:
      `INSERT INTO ${USAGE_TABLE} (userid, collection, bytes, items)
       SELECT CAST(? AS ${dialect.bigintCast}), CAST(? AS ${dialect.intCast}),
         COALESCE(SUM(CASE
           WHEN b.payload_size IS NOT NULL THEN b.payload_size - COALESCE(x.payload_size, 0)
           WHEN x.ttl <= ? THEN -x.payload_size
           ELSE 0 END), 0),
         COUNT(*) - COUNT(x.id)
       FROM ${batchItems} AS b
       LEFT JOIN ${bso} AS x ON x.userid = ? AND x.collection = ? AND x.id = b.id
       WHERE b.batch = ? AND b.userid = ?` + addOnConflict(dialect),
    params: [userId, collectionId, nowSeconds, userId, collectionId, batch, userId],
  };
}
