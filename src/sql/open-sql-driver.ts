/**
 * `openSqlDriver(url)`: a database driver from a URL, shared by the storage
 * backend and the token server (which by default uses the same database).
 *
 * - `sqlite:<path>` (also `sqlite:///abs/path`), parent folder created;
 *   `sqlite::memory:` for a private in-memory database.
 * - `postgres://…` / `postgresql://…`.
 * - `mysql://…` / `mariadb://…` (MySQL 8, MariaDB 10.6+).
 */
import { StorageInputError } from '../storage/errors.js';
import { SqliteDriver, type SqliteDriverOptions } from './sqlite-driver.js';
import type { SqlDriver } from './sql-types.js';

export interface OpenSqlDriverOptions {
  /** `sqlite:./data/syncstorage.db`, `sqlite::memory:`, `postgres://…`, `mysql://…`. */
  url: string;
  /** Wait for a write connection (or a row lock) before `ConflictError`. Default 5000 ms. */
  lockTimeoutMs?: number;
  /** SQLite tuning (`synchronous` defaults to FULL; see sqlite-driver.ts). */
  sqlite?: Omit<SqliteDriverOptions, 'path'>;
  /** PostgreSQL / MySQL pool size. Default 10. */
  maxConnections?: number;
}

/** The SQLite path of a `sqlite:` URL. */
export function sqlitePathOf(url: string): string {
  const rest = url.slice('sqlite:'.length);
  if (rest === ':memory:' || rest === '//:memory:' || rest === '') return ':memory:';
  // sqlite:///abs/path → /abs/path; sqlite://rel/path → rel/path; sqlite:path → path
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

export async function openSqlDriver(options: OpenSqlDriverOptions): Promise<SqlDriver> {
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
    const { MysqlDriver } = await import('./mysql-driver.js');
    return new MysqlDriver({
      url,
      maxConnections: options.maxConnections,
      lockTimeoutMs: options.lockTimeoutMs,
    });
  }
  throw new StorageInputError(
    'unsupported database url: expected sqlite:<path>, sqlite::memory:, postgres://… or mysql://…',
  );
}
