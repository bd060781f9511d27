/**
 * Statements of batch uploads (API 1.5 `?batch=`), in the old layout's
 * `batch_upload_items`: appending items, and applying them all to the BSO
 * table at the commit's one timestamp.
 */
import { payloadByteLength } from '../checked-bso.js';
import { MAX_TTL } from './sql-schema.js';
import type { SqlDialect, SqlValue } from '../../sql/sql-types.js';
import type { BsoInput } from '../sync-storage.js';
import type { Statement } from './bso-upsert.js';

/** Rows per statement: 7 parameters each stays far below every bind limit. */
const ROWS_PER_STATEMENT = 100;

/**
 * Batch items: NULL columns mean "not sent" (the old layout has no other
 * way to say it). A ttl of null ("never expires") is stored as an offset of
 * MAX_TTL, which the commit caps at MAX_TTL, so it is not mistaken for "not
 * sent" and does not keep an old expiry.
 */
export function batchItemUpserts(
  table: string,
  batch: number,
  userId: number,
  items: readonly BsoInput[],
  dialect: SqlDialect,
): Statement[] {
  const fresh = dialect.inserted;
  const groups = new Map<string, BsoInput[]>();
  for (const item of items) {
    const shape = `${item.payload !== undefined}${item.sortindex != null}${item.ttl !== undefined}`;
    const group = groups.get(shape);
    if (group) group.push(item);
    else groups.set(shape, [item]);
  }
  const statements: Statement[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    const updates: string[] = [];
    if (first.payload !== undefined) {
      updates.push(`payload = ${fresh('payload')}`, `payload_size = ${fresh('payload_size')}`);
    }
    if (first.sortindex != null) updates.push(`sortindex = ${fresh('sortindex')}`);
    if (first.ttl !== undefined) updates.push(`ttl_offset = ${fresh('ttl_offset')}`);
    const conflict = updates.length
      ? dialect.upsert('batch, userid, id', updates.join(', '))
      : dialect.ignoreDuplicate('batch');
    for (let start = 0; start < group.length; start += ROWS_PER_STATEMENT) {
      const chunk = group.slice(start, start + ROWS_PER_STATEMENT);
      const params: SqlValue[] = [];
      for (const item of chunk) {
        params.push(
          batch,
          userId,
          item.id,
          item.sortindex ?? null,
          item.payload ?? null,
          item.payload === undefined ? null : payloadByteLength(item),
          item.ttl === undefined ? null : item.ttl === null ? MAX_TTL : item.ttl,
        );
      }
      statements.push({
        sql:
          `INSERT INTO ${table} (batch, userid, id, sortindex, payload, payload_size, ttl_offset) VALUES ` +
          chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ') +
          ` ${conflict}`,
        params,
      });
    }
  }
  return statements;
}

export interface BatchApplyInput {
  bso: string;
  batchItems: string;
  userId: number;
  collectionId: number;
  batch: number;
  /** The commit's timestamp, ms. */
  timestamp: number;
  dialect: SqlDialect;
}

/**
 * The ids of expired rows a batch names: they count as absent, so the apply
 * must delete them first (else they lend the batch their old fields). Read
 * without locks and deleted by primary key: a locking `DELETE … AND ttl <= ?`
 * ran through the ttl index over other users' expired rows on MySQL, into
 * deadlocks with their deletes (drill:crash).
 */
export function batchExpiredTargets(input: BatchApplyInput): Statement {
  const { bso, batchItems, userId, collectionId, batch, timestamp } = input;
  return {
    sql: `SELECT x.id FROM ${batchItems} AS b JOIN ${bso} AS x
            ON x.userid = ? AND x.collection = ? AND x.id = b.id
          WHERE b.batch = ? AND b.userid = ? AND x.ttl <= ?`,
    params: [userId, collectionId, batch, userId, Math.floor(timestamp / 1000)],
  };
}

/**
 * Apply a batch whose expired targets are gone (`batchExpiredTargets`):
 * update existing items with only the fields the batch sent, insert the rest.
 * A ttl counts from the commit; "never" and huge offsets cap at MAX_TTL.
 */
export function batchApplyStatements(input: BatchApplyInput): Statement[] {
  const { bso, batchItems, userId, collectionId, batch, timestamp, dialect } = input;
  const now = Math.floor(timestamp / 1000);
  const int64 = dialect.bigintCast;
  const expiry = (keep: string) => `CASE WHEN b.ttl_offset IS NULL THEN ${keep}
      WHEN CAST(? AS ${int64}) + b.ttl_offset > ${MAX_TTL} THEN ${MAX_TTL}
      ELSE CAST(? AS ${int64}) + b.ttl_offset END`;
  return [
    {
      // Each assignment reads only its own old column and b's: MySQL's
      // multi-table UPDATE promises no assignment order.
      sql: dialect.updateJoined(
        bso,
        `${batchItems} AS b`,
        [
          ['sortindex', `COALESCE(b.sortindex, ${bso}.sortindex)`],
          ['payload', `COALESCE(b.payload, ${bso}.payload)`],
          ['payload_size', `COALESCE(b.payload_size, ${bso}.payload_size)`],
          ['modified', `CASE WHEN b.payload IS NULL THEN ${bso}.modified ELSE ? END`],
          ['ttl', expiry(`${bso}.ttl`)],
        ],
        `b.batch = ? AND b.userid = ? AND ${bso}.userid = ? AND ${bso}.collection = ?
           AND ${bso}.id = b.id`,
      ),
      params: [timestamp, now, now, batch, userId, userId, collectionId],
    },
    {
      sql: `INSERT INTO ${bso} (userid, collection, id, sortindex, modified, payload, payload_size, ttl)
            SELECT ?, ?, b.id, b.sortindex, ?, COALESCE(b.payload, ''), COALESCE(b.payload_size, 0),
              ${expiry(String(MAX_TTL))}
            FROM ${batchItems} AS b
            WHERE b.batch = ? AND b.userid = ? AND NOT EXISTS
              (SELECT 1 FROM ${bso} AS x WHERE x.userid = ? AND x.collection = ? AND x.id = b.id)`,
      params: [userId, collectionId, timestamp, now, now, batch, userId, userId, collectionId],
    },
  ];
}
