/**
 * The small seam between the dialect-independent `SqlStorage` and a
 * database driver: an async executor over one connection, leases of
 * connections, and the dialect's SQL differences as data and small methods
 * (kysely's dialect-adapter idea), instead of `if (driver === …)` in queries.
 */

import type { DatabaseClaim, DatabaseClaimMode } from './database-claim.js';

/** What we bind as query parameters (arrays only where the dialect says `bulkRows: 'arrays'`). */
export type SqlScalar = string | number | null;
export type SqlValue = SqlScalar | readonly SqlScalar[];

/** One row as the driver returns it. */
export type SqlRow = Record<string, unknown>;

/** Runs parameterised SQL (`?` placeholders) on one connection. */
export interface SqlExecutor {
  all<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  get<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  /**
   * The rows as arrays of column values, in the SELECT's order. No object
   * per row: for hot queries (in better-sqlite3 the row objects cost about
   * a quarter of a small query).
   */
  rows(sql: string, params?: readonly SqlValue[]): Promise<SqlValue[][]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** A connection checked out for one session; `release` returns it. */
export interface SqlLease {
  readonly executor: SqlExecutor;
  /** `discard` drops a connection that may be broken instead of reusing it. */
  release(discard?: boolean): void;
}

export type SqlDialectName = 'sqlite' | 'postgres' | 'mysql';

export interface SqlDialect {
  readonly name: SqlDialectName;
  /** Statement that opens a transaction that will write (SQLite: IMMEDIATE takes the write lock now). */
  readonly beginWrite: string;
  /** Statement that opens a read transaction. */
  readonly beginRead: string;
  /**
   * Shared / exclusive row-lock suffixes of a SELECT; empty where the
   * database locks whole files. MySQL's shared lock is `LOCK IN SHARE MODE`:
   * MariaDB has no `FOR SHARE` (syncstorage-rs #1753), MySQL 8 keeps both.
   */
  readonly forShare: string;
  readonly forUpdate: string;
  /** Whether a read transaction must run a first statement to pin its snapshot (SQLite WAL). */
  readonly readNeedsSnapshotQuery: boolean;
  /**
   * How many rows go into one statement: a multi-row `VALUES` list, or
   * (PostgreSQL) one array parameter per column through `unnest`, which
   * keeps the statement text and its parse cost the same for any row count.
   */
  readonly bulkRows: 'values' | 'arrays';
  /** `WITH x AS (INSERT …) INSERT …`: one round trip writes items and the collection timestamp. */
  readonly writableCte: boolean;
  /** Run first in the migration transaction so two servers starting at once take turns. */
  readonly migrationLock: string | null;
  /**
   * The database-held lock behind `SqlDriver.claim` (database-claim.ts):
   * one statement per mode that tries the lock without waiting, on a
   * session kept open for the claim's life, answering one row `{ ok }`
   * (true or 1 when granted). `sharer: null` where the database has no
   * shared named lock: then a sharer only checks that no owner holds it,
   * by taking and at once releasing the owner's lock (`claimCheckRelease`).
   * MySQL/MariaDB: `GET_LOCK(…, 0)` on a name per database, no sharer
   * (mysql-driver.ts).
   * null: the driver claims another way (SQLite: a companion file).
   */
  readonly claimLock: {
    readonly owner: string;
    readonly sharer: string | null;
    readonly claimCheckRelease?: string;
  } | null;
  /** Run after the migration (MySQL's GET_LOCK is held by the connection, not the transaction). */
  readonly migrationUnlock: string | null;
  /**
   * The tail of an `INSERT` that leaves a row with the same key (any unique
   * key) as it is and counts it as 0 rows changed. `keyColumn` is one column
   * of the key (MySQL has no DO NOTHING: it assigns the column to itself).
   */
  ignoreDuplicate(keyColumn: string): string;
  /**
   * The tail of an `INSERT` that, on a duplicate of `keyColumns` (comma
   * list), runs `assignments` on the existing row. In MySQL the assignments
   * run left to right and later ones see the earlier ones' new values, so a
   * column the others read (`ttl`) must be assigned last.
   */
  upsert(keyColumns: string, assignments: string): string;
  /** In an upsert's assignments: the value the INSERT proposed for `column`. */
  inserted(column: string): string;
  /**
   * `UPDATE target SET … FROM source WHERE …` (PostgreSQL, SQLite) or MySQL's
   * multi-table `UPDATE target, source SET target.col = … WHERE …`; the
   * parameters of `assignments` come before those of `where` in both.
   */
  updateJoined(
    target: string,
    source: string,
    assignments: ReadonlyArray<readonly [column: string, value: string]>,
    where: string,
  ): string;
  /** The type of `CAST(? AS …)` to a 64-bit integer (`BIGINT`; MySQL: `SIGNED`). */
  readonly bigintCast: string;
  /** The type of `CAST(x AS …)` to text (`TEXT`; MySQL: `CHAR`). */
  readonly textCast: string;
  /** The type of `CAST(? AS …)` to a 32-bit integer (`INTEGER`; MySQL: `SIGNED`). */
  readonly intCast: string;
  /** A descending order with NULLs after every value (MySQL sorts them so already, and has no `NULLS LAST`). */
  descNullsLast(column: string): string;
  /**
   * MySQL has no `INSERT … RETURNING` (MariaDB has, MySQL 8 not): the query
   * that reads the id the connection's last INSERT generated. Null where
   * RETURNING works (`insertReturningId`).
   */
  readonly lastInsertId: string | null;
  /**
   * After rows were inserted with explicit ids into `table.column` (an
   * identity column): the statement that moves its generator past them.
   * PostgreSQL's identity sequences do not follow explicit ids; SQLite's
   * AUTOINCREMENT and MySQL's AUTO_INCREMENT do (null).
   */
  identityCatchUp(table: string, column: string): string | null;
  /** A DELETE of at most `LIMIT ?` rows of `table` matching `condition` (found through an index). */
  boundedDelete(table: string, condition: string): string;
}

/** A database: connections for reads and for writes. */
export interface SqlDriver {
  readonly dialect: SqlDialect;
  /** A connection for reads outside any write session. */
  acquireRead(): Promise<SqlLease>;
  /**
   * An idle read connection right now, or undefined (then use `acquireRead`).
   * Optional: it spares the hot path of a plain read the promises of an
   * acquire that cannot wait anyway. Throws as `acquireRead` does.
   */
  acquireReadNow?(): SqlLease | undefined;
  /**
   * A connection for a write session. Throws `ConflictError` if none can be
   * had within `timeoutMs` (SQLite has one write connection).
   */
  acquireWrite(timeoutMs: number): Promise<SqlLease>;
  /**
   * Take this process's claim on the database (database-claim.ts), held
   * until `release` or `close`. Throws `DatabaseClaimedError` when another
   * process's claim excludes it. Per process: the storage and the token
   * server of one process share a database without claiming twice.
   */
  claim(mode: DatabaseClaimMode): Promise<DatabaseClaim>;
  /** Map a driver error to a storage error (lock timeout → `ConflictError`), or return it. */
  translateError(error: unknown): unknown;
  /**
   * Optional: why the database cannot take writes right now although it
   * answers queries (a SQLite file deleted, read-only, on a full disk), or
   * undefined. The health check reports it.
   */
  checkHealth?(): string | undefined;
  close(): Promise<void>;
}
