/**
 * A `SqlDriver` that reports each statement's latency and the connections
 * in use to an observer (the admin listener's metrics), leaving the driver
 * itself unaware of metrics. Without an observer, drivers are used bare.
 */
import type { SqlDriver, SqlExecutor, SqlLease, SqlValue } from './sql-types.js';

export type LeaseMode = 'read' | 'write';

export interface SqlObserver {
  /** One statement ran: its first keyword (`select`, `insert`, …), seconds, and whether it threw. */
  statement(operation: string, seconds: number, failed: boolean): void;
  /** A connection was checked out (+1) or returned (−1). */
  leases(mode: LeaseMode, delta: 1 | -1): void;
}

function operationOf(sql: string): string {
  const match = /^\s*(?:WITH\b[\s\S]*?\)\s*)?([A-Za-z]+)/.exec(sql);
  const word = (match?.[1] ?? 'other').toLowerCase();
  return ['select', 'insert', 'update', 'delete', 'begin', 'commit', 'rollback'].includes(word)
    ? word
    : 'other';
}

function observeExecutor(executor: SqlExecutor, observer: SqlObserver): SqlExecutor {
  const timed =
    <A extends unknown[], R>(fn: (sql: string, ...rest: A) => Promise<R>) =>
    async (sql: string, ...rest: A): Promise<R> => {
      const started = process.hrtime.bigint();
      let failed = false;
      try {
        return await fn(sql, ...rest);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        observer.statement(
          operationOf(sql),
          Number(process.hrtime.bigint() - started) / 1e9,
          failed,
        );
      }
    };
  return {
    all: timed((sql, params?: readonly SqlValue[]) => executor.all(sql, params)),
    get: timed((sql, params?: readonly SqlValue[]) => executor.get(sql, params)),
    rows: timed((sql, params?: readonly SqlValue[]) => executor.rows(sql, params)),
    run: timed((sql, params?: readonly SqlValue[]) => executor.run(sql, params)),
  } as SqlExecutor;
}

function observeLease(lease: SqlLease, mode: LeaseMode, observer: SqlObserver): SqlLease {
  observer.leases(mode, 1);
  let released = false;
  return {
    executor: observeExecutor(lease.executor, observer),
    release(discard?: boolean) {
      if (!released) {
        released = true;
        observer.leases(mode, -1);
      }
      lease.release(discard);
    },
  };
}

export function observeSqlDriver(driver: SqlDriver, observer: SqlObserver): SqlDriver {
  const readNow = driver.acquireReadNow?.bind(driver);
  return {
    dialect: driver.dialect,
    acquireRead: async () => observeLease(await driver.acquireRead(), 'read', observer),
    ...(readNow && {
      acquireReadNow: () => {
        const lease = readNow();
        return lease && observeLease(lease, 'read', observer);
      },
    }),
    acquireWrite: async (timeoutMs) =>
      observeLease(await driver.acquireWrite(timeoutMs), 'write', observer),
    claim: (mode) => driver.claim(mode),
    translateError: (error) => driver.translateError(error),
    close: () => driver.close(),
  };
}
