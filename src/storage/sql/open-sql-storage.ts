/**
 * `openSqlStorage({ url })`: the SQL backend from a database URL, schema
 * created or migrated before it is returned.
 *
 * - `sqlite:<path>` (also `sqlite:///abs/path`), parent folder created;
 *   `sqlite::memory:` for a private in-memory database.
 * - `postgres://…` / `postgresql://…`.
 */
import { openSqlDriver, type OpenSqlDriverOptions } from '../../sql/open-sql-driver.js';
import type { SqlDriver } from '../../sql/sql-types.js';
import { observeSqlDriver, type SqlObserver } from '../../sql/observed-sql-driver.js';
import { SqlStorage } from './sql-storage.js';
import type { DatabaseClaimMode } from '../../sql/database-claim.js';

export interface OpenSqlStorageOptions extends OpenSqlDriverOptions {
  /** Spread bso / batch_upload_items over N tables by `userid % N` (as an old sharded database). Default 0. */
  shards?: number;
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  clock?: () => number;
  /**
   * A driver already open on `url` (the token server shares it: one
   * connection pool per database). The storage closes it on close.
   */
  driver?: SqlDriver;
  /** Told every statement's latency and the connections in use (metrics). */
  observer?: SqlObserver;
  /**
   * Take this process's claim on the database before migrating
   * (src/sql/database-claim.ts): `owner` to cache in process memory,
   * `sharer` otherwise. Released by `close()`. Default: no claim.
   */
  claim?: DatabaseClaimMode;
}

export async function openSqlStorage(options: OpenSqlStorageOptions): Promise<SqlStorage> {
  const opened = options.driver ?? (await openSqlDriver(options));
  const driver = options.observer ? observeSqlDriver(opened, options.observer) : opened;
  const storage = new SqlStorage({
    driver,
    shards: options.shards,
    lockTimeoutMs: options.lockTimeoutMs,
    clock: options.clock,
  });
  try {
    if (options.claim) await driver.claim(options.claim);
    await storage.migrate();
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
  return storage;
}
