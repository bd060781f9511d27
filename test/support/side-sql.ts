/**
 * SQL on a connection of its own to a test's database (autocommit): the
 * "other tool" that reads or changes rows while the server runs. The
 * connection opens at the first statement.
 */
import { openSqlDriver } from '../../src/sql/open-sql-driver.js';
import { inWriteTransaction } from '../../src/sql/sql-transaction.js';
import type { SqlDriver, SqlValue } from '../../src/sql/sql-types.js';

export interface SideSql {
  /** A SELECT returns its rows; anything else runs and returns []. */
  sql(text: string, params?: SqlValue[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

export function sideSql(url: string): SideSql {
  let driver: SqlDriver | undefined;
  return {
    async sql(text, params = []) {
      driver ??= await openSqlDriver({ url });
      return inWriteTransaction(driver, 3000, async (executor) => {
        if (/^\s*select/i.test(text)) return executor.all(text, params);
        await executor.run(text, params);
        return [];
      });
    },
    close: async () => driver?.close(),
  };
}
