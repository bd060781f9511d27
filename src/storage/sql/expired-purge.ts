/**
 * Incremental purge of expired rows: BSOs past their ttl, batches past their
 * lifetime, and those batches' items, in short transactions so the purge
 * never holds a long one and writers interleave with it.
 *
 * Expired BSOs go per user and collection, at most `maxPerLoop` rows per
 * transaction, under the collection's write lock (the row lock a writer
 * takes first, on PostgreSQL; SQLite's one writer elsewhere), and the same
 * transaction subtracts them from the running totals (`usage-statements.ts`):
 * a write racing the purge on the same rows sees them either both gone or
 * both there. Batches are found through an index and deleted in bounded
 * statements (`DELETE … WHERE rowid IN (SELECT rowid … LIMIT n)` on SQLite,
 * the same with `ctid` on PostgreSQL, `DELETE … LIMIT n` on MySQL: the
 * dialect's `boundedDelete`).
 */
import type { PurgeOptions, PurgeProgress, PurgeResult } from '../sync-storage.js';
import type { ShardLayout } from './sql-schema.js';
import type { SqlDriver, SqlExecutor, SqlValue } from '../../sql/sql-types.js';
import { placeholders } from './find-query.js';
import { usageSubtract } from './usage-statements.js';

/** Statements per table per run; more means "run again" (`isComplete: false`). */
const MAX_ROUNDS_PER_TABLE = 100;
/**
 * Expired BSOs go per user and collection, so a run also stops after this
 * many transactions per table, however few rows each one deleted.
 */
const MAX_BSO_TRANSACTIONS_PER_TABLE = 10_000;

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
  const bounded = (table: string, condition: string): string =>
    driver.dialect.boundedDelete(table, condition);

  // Progress names the phase and what is left of it: its expired rows are
  // counted once when it begins (an index range count), then counted down.
  let phase: PurgeProgress['phase'] = 'items';
  let left = 0;
  const progress = (purged: number): void => {
    left = Math.max(0, left - purged);
    options.onProgress?.({ ...result, phase, remaining: left });
  };
  const begin = async (next: PurgeProgress['phase'], counts: Array<[string, SqlValue]>) => {
    phase = next;
    left = 0;
    for (const [sql, param] of counts) {
      const row = await withLease(driver, 'read', context.lockTimeoutMs, (executor) =>
        executor.rows(sql, [param]),
      );
      left += Number(row[0]?.[0] ?? 0);
    }
  };

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
      progress(deleted);
      if (deleted < perLoop) return;
    }
  };

  const expiredBefore = nowSeconds - grace;
  await begin(
    'items',
    layout.all().map(({ bso }) => [`SELECT COUNT(*) FROM ${bso} WHERE ttl <= ?`, expiredBefore]),
  );
  for (const { bso } of layout.all()) {
    const complete = await purgeExpiredBsos(context, bso, expiredBefore, perLoop, (rows) => {
      result.bsoRowsPurged += rows;
      progress(rows);
    });
    if (!complete) result.isComplete = false;
  }
  // Batch ids are their creation time in ms.
  const batchesBefore = (nowSeconds - batchLifetimeSeconds - grace) * 1000;
  await begin('batches', [['SELECT COUNT(*) FROM batch_uploads WHERE batch < ?', batchesBefore]]);
  await loop(
    bounded('batch_uploads', 'batch < ?'),
    [batchesBefore],
    (n) => (result.batchesPurged += n),
  );
  await begin(
    'batch items',
    layout
      .all()
      .map(({ batchItems }) => [
        `SELECT COUNT(*) FROM ${batchItems} WHERE batch < ?`,
        batchesBefore,
      ]),
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

/** Expired rows of one BSO table; false when it stopped at the cap. */
async function purgeExpiredBsos(
  context: PurgeContext,
  bso: string,
  expiredBefore: number,
  perLoop: number,
  purged: (rows: number) => void,
): Promise<boolean> {
  const { driver } = context;
  let transactions = 0;
  // The same bound on rows per run as the batch tables' statements.
  let budget = MAX_ROUNDS_PER_TABLE * perLoop;
  for (;;) {
    // Which users and collections hold expired rows, through the ttl index.
    const pairs = await withLease(driver, 'read', context.lockTimeoutMs, (executor) =>
      executor.rows(`SELECT DISTINCT userid, collection FROM ${bso} WHERE ttl <= ? LIMIT ?`, [
        expiredBefore,
        perLoop,
      ]),
    );
    for (const [userId, collectionId] of pairs) {
      for (;;) {
        if (budget === 0 || transactions++ === MAX_BSO_TRANSACTIONS_PER_TABLE) return false;
        const limit = Math.min(perLoop, budget);
        const rows = await purgeUserCollection(
          context,
          bso,
          Number(userId),
          Number(collectionId),
          expiredBefore,
          limit,
        );
        budget -= rows;
        purged(rows);
        if (rows < limit) break;
      }
    }
    if (pairs.length < perLoop) return true;
  }
}

/** At most `perLoop` expired rows of one user's collection, and their bytes off the totals. */
async function purgeUserCollection(
  context: PurgeContext,
  bso: string,
  userId: number,
  collectionId: number,
  expiredBefore: number,
  perLoop: number,
): Promise<number> {
  const { dialect } = context.driver;
  return withLease(context.driver, 'write', context.lockTimeoutMs, async (executor) => {
    await executor.run(dialect.beginWrite);
    try {
      if (dialect.forUpdate) {
        await executor.get(
          `SELECT last_modified FROM user_collections WHERE userid = ? AND collection = ? ${dialect.forUpdate}`,
          [userId, collectionId],
        );
      }
      const rows = await executor.rows(
        `SELECT id, payload_size FROM ${bso} WHERE userid = ? AND collection = ? AND ttl <= ? LIMIT ?`,
        [userId, collectionId, expiredBefore, perLoop],
      );
      if (rows.length > 0) {
        const ids = rows.map(([id]) => String(id));
        const idClause =
          dialect.bulkRows === 'arrays'
            ? 'id = ANY(CAST(? AS TEXT[]))'
            : `id IN (${placeholders(ids.length)})`;
        await executor.run(
          `DELETE FROM ${bso} WHERE userid = ? AND collection = ? AND ${idClause}`,
          [userId, collectionId, ...(dialect.bulkRows === 'arrays' ? [ids] : ids)],
        );
        const bytes = rows.reduce((sum, [, size]) => sum + Number(size ?? 0), 0);
        const subtract = usageSubtract(userId, collectionId, bytes, rows.length);
        await executor.run(subtract.sql, subtract.params);
      }
      await executor.run('COMMIT');
      return rows.length;
    } catch (error) {
      await executor.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

async function withLease<T>(
  driver: SqlDriver,
  mode: 'read' | 'write',
  timeoutMs: number,
  fn: (executor: SqlExecutor) => Promise<T>,
): Promise<T> {
  let lease;
  try {
    lease = mode === 'write' ? await driver.acquireWrite(timeoutMs) : await driver.acquireRead();
  } catch (error) {
    throw driver.translateError(error);
  }
  try {
    return await fn(lease.executor);
  } catch (error) {
    throw driver.translateError(error);
  } finally {
    lease.release();
  }
}
