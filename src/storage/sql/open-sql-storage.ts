/**
 * `openSqlStorage({ url })`: the SQL backend from a database URL, schema
 * created or migrated before it is returned.
 *
 * - `sqlite:<path>` (also `sqlite:///abs/path`), parent folder created;
 *   `sqlite::memory:` for a private in-memory database.
 * - `postgres://…` / `postgresql://…`.
 */
import { StorageInputError } from '../errors.js';
import type { SyncStorage } from '../sync-storage.js';
import { SqliteDriver, type SqliteDriverOptions } from './sqlite-driver.js';
import { SqlStorage } from './sql-storage.js';
import type { SqlDriver } from './sql-types.js';

export interface OpenSqlStorageOptions {
  /** `sqlite:./data/syncstorage.db`, `sqlite::memory:`, `postgres://…`. */
  url: string;
  /** Spread bso / batch_upload_items over N tables by `userid % N` (as an old sharded database). Default 0. */
  shards?: number;
  /** Wait for a collection's write lock before `ConflictError`. Default 5000 ms. */
  lockTimeoutMs?: number;
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  clock?: () => number;
  /** SQLite tuning (`synchronous` defaults to FULL; see sqlite-driver.ts). */
  sqlite?: Omit<SqliteDriverOptions, 'path'>;
  /** PostgreSQL pool size. Default 10. */
  maxConnections?: number;
}

/** The SQLite path of a `sqlite:` URL. */
export function sqlitePathOf(url: string): string {
  const rest = url.slice('sqlite:'.length);
  if (rest === ':memory:' || rest === '//:memory:' || rest === '') return ':memory:';
  // sqlite:///abs/path → /abs/path; sqlite://rel/path → rel/path; sqlite:path → path
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

async function driverFor(options: OpenSqlStorageOptions): Promise<SqlDriver> {
  const { url } = options;
  const scheme = /^([a-z0-9+]+):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    return new SqliteDriver({ ...options.sqlite, path: sqlitePathOf(url) });
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    // Loaded only when asked for, so SQLite users never load pg.
    const { PostgresDriver } = await import('./postgres-driver.js');
    return new PostgresDriver({
      url,
      maxConnections: options.maxConnections,
      lockTimeoutMs: options.lockTimeoutMs,
    });
  }
  if (scheme === 'mysql' || scheme === 'mariadb') {
    throw new StorageInputError(
      'mysql:// databases are not supported yet; use sqlite:<path> or postgres://…',
    );
  }
  throw new StorageInputError(
    'unsupported database url: expected sqlite:<path>, sqlite::memory: or postgres://…',
  );
}

export async function openSqlStorage(options: OpenSqlStorageOptions): Promise<SyncStorage> {
  const driver = await driverFor(options);
  const storage = new SqlStorage({
    driver,
    shards: options.shards,
    lockTimeoutMs: options.lockTimeoutMs,
    clock: options.clock,
  });
  try {
    await storage.migrate();
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
  return storage;
}
