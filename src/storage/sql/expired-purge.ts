/**
 * Incremental purge of expired rows: BSOs past their ttl, batches past their
 * lifetime, and those batches' items. Each statement deletes at most
 * `maxPerLoop` rows in its own short transaction, found through an index
 * (`DELETE … WHERE rowid IN (SELECT rowid … LIMIT n)` on SQLite, the same
 * with `ctid` on PostgreSQL), so the purge never holds a long transaction
 * and writers interleave with it.
 */
import type { PurgeOptions, PurgeResult } from '../sync-storage.js';
import type { ShardLayout } from './sql-schema.js';
import type { SqlDriver, SqlValue } from '../../sql/sql-types.js';

/** Statements per table per run; more means "run again" (`isComplete: false`). */
const MAX_ROUNDS_PER_TABLE = 100;

export interface PurgeContext {
  driver: SqlDriver;
  layout: ShardLayout;
  nowSeconds: number;
  batchLifetimeSeconds: number;
  lockTimeoutMs: number;
  options: PurgeOptions;
}

export async function purgeExpired(context: PurgeContext): Promise<PurgeResult> {
  const { driver, layout, nowSeconds, batchLifetimeSeconds, options } = context;
  const grace = Math.max(0, Math.floor(options.gracePeriod ?? 0));
  const perLoop = Math.max(1, Math.floor(options.maxPerLoop ?? 1000));
  const result: PurgeResult = {
    bsoRowsPurged: 0,
    batchesPurged: 0,
    batchItemsPurged: 0,
    isComplete: true,
  };
  const address = driver.dialect.rowAddress;
  const bounded = (table: string, condition: string): string =>
    driver.dialect.name === 'postgres'
      ? `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${condition} LIMIT ?))`
      : `DELETE FROM ${table} WHERE ${address} IN (SELECT ${address} FROM ${table} WHERE ${condition} LIMIT ?)`;

  const loop = async (
    sql: string,
    params: SqlValue[],
    count: (n: number) => void,
  ): Promise<void> => {
    for (let round = 0; ; round++) {
      if (round === MAX_ROUNDS_PER_TABLE) {
        result.isComplete = false;
        return;
      }
      const lease = await driver.acquireWrite(context.lockTimeoutMs);
      let deleted: number;
      try {
        deleted = await lease.executor.run(sql, [...params, perLoop]);
      } catch (error) {
        throw driver.translateError(error);
      } finally {
        lease.release();
      }
      count(deleted);
      options.onProgress?.({ ...result });
      if (deleted < perLoop) return;
    }
  };

  const expiredBefore = nowSeconds - grace;
  for (const { bso } of layout.all()) {
    await loop(bounded(bso, 'ttl <= ?'), [expiredBefore], (n) => (result.bsoRowsPurged += n));
  }
  // Batch ids are their creation time in ms.
  const batchesBefore = (nowSeconds - batchLifetimeSeconds - grace) * 1000;
  await loop(
    bounded('batch_uploads', 'batch < ?'),
    [batchesBefore],
    (n) => (result.batchesPurged += n),
  );
  for (const { batchItems } of layout.all()) {
    await loop(
      bounded(batchItems, 'batch < ?'),
      [batchesBefore],
      (n) => (result.batchItemsPurged += n),
    );
  }
  return result;
}
