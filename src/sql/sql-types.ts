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

export type SqlDialectName = 'sqlite' | 'postgres';

export interface SqlDialect {
  readonly name: SqlDialectName;
  /** Statement that opens a transaction that will write (SQLite: IMMEDIATE takes the write lock now). */
  readonly beginWrite: string;
  /** Statement that opens a read transaction. */
  readonly beginRead: string;
  /** `FOR SHARE` / `FOR UPDATE` suffixes; empty where the database locks whole files. */
  readonly forShare: string;
  readonly forUpdate: string;
  /** Physical row address column used for bounded deletes (`rowid`, `ctid`). */
  readonly rowAddress: string;
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
   * MySQL/MariaDB (its driver is still to come):
   * `{ owner: "SELECT GET_LOCK('syncstorage-ts.owner', 0) AS ok", sharer: null }`,
   * `claimCheckRelease: "SELECT RELEASE_LOCK('syncstorage-ts.owner')"`.
   * null: the driver claims another way (SQLite: a companion file).
   */
  readonly claimLock: {
    readonly owner: string;
    readonly sharer: string | null;
    readonly claimCheckRelease?: string;
  } | null;
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
