/**
 * Short units of work over a `SqlDriver`: one write transaction (BEGIN …
 * COMMIT, rolled back on error, the connection dropped when even the
 * rollback failed), or statements on a read connection outside any
 * transaction, so each one sees the latest committed rows. Driver errors
 * come out translated (`ConflictError`, `StorageUnavailableError`).
 */
import type { SqlDriver, SqlExecutor } from './sql-types.js';

export async function inWriteTransaction<T>(
  driver: SqlDriver,
  lockTimeoutMs: number,
  body: (executor: SqlExecutor) => Promise<T>,
): Promise<T> {
  const lease = await driver.acquireWrite(lockTimeoutMs);
  const { executor } = lease;
  let discard = false;
  try {
    await executor.run(driver.dialect.beginWrite);
    try {
      const result = await body(executor);
      await executor.run('COMMIT');
      return result;
    } catch (error) {
      await executor.run('ROLLBACK').catch(() => {
        discard = true;
      });
      throw error;
    }
  } catch (error) {
    throw driver.translateError(error);
  } finally {
    lease.release(discard);
  }
}

/** Autocommit reads: every statement sees what was committed before it started. */
export async function onReadConnection<T>(
  driver: SqlDriver,
  body: (executor: SqlExecutor) => Promise<T>,
): Promise<T> {
  const lease = driver.acquireReadNow?.() ?? (await driver.acquireRead());
  try {
    return await body(lease.executor);
  } catch (error) {
    throw driver.translateError(error);
  } finally {
    lease.release();
  }
}
