/**
 * Builds the statements that write BSOs. A client may send any subset of
 * payload / sortindex / ttl, and fields not sent are kept on update (API 1.5
 * PUT and POST), so rows are grouped by which fields they carry and each
 * group is one multi-row upsert (`INSERT … ON CONFLICT DO UPDATE`, MySQL's
 * `ON DUPLICATE KEY UPDATE`) of those columns.
 */
import { payloadByteLength } from '../checked-bso.js';
import type { BsoInput } from '../sync-storage.js';
import { MAX_TTL } from './sql-schema.js';
import type { SqlDialect, SqlValue } from '../../sql/sql-types.js';

/** Rows per statement: 8 parameters each stays far below every bind limit. */
const ROWS_PER_STATEMENT = 100;

export interface Statement {
  sql: string;
  params: SqlValue[];
}

/** Merge repeated ids (later fields win), so one statement never hits a row twice. */
export function mergeDuplicateIds(items: readonly BsoInput[]): BsoInput[] {
  const byId = new Map<string, BsoInput>();
  for (const item of items) {
    const previous = byId.get(item.id);
    const merged: BsoInput = previous ? { ...previous } : { id: item.id };
    if (item.payload !== undefined) merged.payload = item.payload;
    if (item.sortindex !== undefined) merged.sortindex = item.sortindex;
    if (item.ttl !== undefined) merged.ttl = item.ttl;
    byId.set(item.id, merged);
  }
  return [...byId.values()];
}

/** Absolute expiry (seconds) of a ttl given at `nowSeconds`; null means never. */
export function expiryOf(ttl: number | null, nowSeconds: number): number {
  return ttl === null ? MAX_TTL : Math.min(nowSeconds + ttl, MAX_TTL);
}

export function bsoUpserts(
  table: string,
  userId: number,
  collectionId: number,
  items: readonly BsoInput[],
  timestamp: number,
  dialect: SqlDialect,
): Statement[] {
  const fresh = dialect.inserted;
  const nowSeconds = Math.floor(timestamp / 1000);
  const groups = new Map<string, BsoInput[]>();
  for (const item of items) {
    const shape = `${item.payload !== undefined}${item.sortindex !== undefined}${item.ttl !== undefined}`;
    const group = groups.get(shape);
    if (group) group.push(item);
    else groups.set(shape, [item]);
  }
  const statements: Statement[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    // An expired row counts as absent: fields not sent take their defaults
    // instead of the old values (seed bug: a sortindex-only PUT resurrected
    // an expired item's payload). The SET expressions all read the old `ttl`:
    // it is assigned last (MySQL runs assignments in order).
    const expired = `${table}.ttl <= ?`;
    const keepUnlessExpired = (column: string, fresh: string) =>
      `${column} = CASE WHEN ${expired} THEN ${fresh} ELSE ${table}.${column} END`;
    const updates: string[] = [];
    let expiredChecks = 0;
    if (first.payload !== undefined) {
      // The seed's rule: only a new payload makes a new `modified`.
      updates.push(`payload = ${fresh('payload')}`, `payload_size = ${fresh('payload_size')}`);
      updates.push(`modified = ${fresh('modified')}`);
    } else {
      updates.push(keepUnlessExpired('payload', "''"), keepUnlessExpired('payload_size', '0'));
      updates.push(keepUnlessExpired('modified', fresh('modified')));
      expiredChecks += 3;
    }
    if (first.sortindex !== undefined) updates.push(`sortindex = ${fresh('sortindex')}`);
    else {
      updates.push(keepUnlessExpired('sortindex', 'NULL'));
      expiredChecks++;
    }
    if (first.ttl !== undefined) updates.push(`ttl = ${fresh('ttl')}`);
    else {
      updates.push(keepUnlessExpired('ttl', fresh('ttl')));
      expiredChecks++;
    }
    const conflictParams: SqlValue[] = Array.from({ length: expiredChecks }, () => nowSeconds);
    const ttlOf = (item: BsoInput) =>
      item.ttl === undefined ? MAX_TTL : expiryOf(item.ttl, nowSeconds);
    const conflictClause = ` ${dialect.upsert('userid, collection, id', updates.join(', '))}`;
    if (dialect.bulkRows === 'arrays') {
      const payloads = group.map((item) => item.payload ?? '');
      statements.push({
        sql:
          `INSERT INTO ${table} (userid, collection, id, sortindex, modified, payload, payload_size, ttl)
           SELECT CAST(? AS BIGINT), CAST(? AS INTEGER), u.id, u.sortindex, CAST(? AS BIGINT),
             u.payload, u.payload_size, u.ttl
           FROM unnest(CAST(? AS TEXT[]), CAST(? AS INTEGER[]), CAST(? AS TEXT[]),
             CAST(? AS INTEGER[]), CAST(? AS BIGINT[])) AS u(id, sortindex, payload, payload_size, ttl)` +
          conflictClause,
        params: [
          userId,
          collectionId,
          timestamp,
          group.map((item) => item.id),
          group.map((item) => item.sortindex ?? null),
          payloads,
          group.map(payloadByteLength),
          group.map(ttlOf),
          ...conflictParams,
        ],
      });
      continue;
    }
    for (let start = 0; start < group.length; start += ROWS_PER_STATEMENT) {
      const chunk = group.slice(start, start + ROWS_PER_STATEMENT);
      const params: SqlValue[] = [];
      for (const item of chunk) {
        const payload = item.payload ?? '';
        params.push(
          userId,
          collectionId,
          item.id,
          item.sortindex ?? null,
          timestamp,
          payload,
          payloadByteLength(item),
          ttlOf(item),
        );
      }
      statements.push({
        sql:
          `INSERT INTO ${table} (userid, collection, id, sortindex, modified, payload, payload_size, ttl) VALUES ` +
          chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ') +
          conflictClause,
        params: [...params, ...conflictParams],
      });
    }
  }
  return statements;
}
