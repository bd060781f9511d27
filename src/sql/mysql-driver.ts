/**
 * MySQL 8 and MariaDB 10.6+ through mysql2 with a pool: one dialect both
 * accept (the dialect table below is the one place they are spelled out).
 *
 * - Sessions run at READ COMMITTED, as PostgreSQL's default: the storage's
 *   consistency comes from its row locks on `user_collections` (`LOCK IN
 *   SHARE MODE`, which MariaDB and MySQL 8 both accept, unlike `FOR SHARE`;
 *   `FOR UPDATE`), not from the snapshot of a first read.
 * - `innodb_lock_wait_timeout` (whole seconds) is set per connection from
 *   `lockTimeoutMs`; a lock wait timeout or a deadlock becomes
 *   `ConflictError` (503 with Retry-After).
 * - A connection found dead (the server restarted, `wait_timeout`, a proxy)
 *   is replaced and the statement retried once, where nothing of the
 *   session can have been lost: a `START TRANSACTION`, or a read outside a
 *   transaction. Inside a transaction the error goes up (503) and the
 *   connection is discarded.
 * - mysql2's `query` (client-side escaping, one round trip) rather than
 *   server-side prepared statements: our statement texts vary with id-list
 *   lengths, and `LIMIT ?` as a prepared parameter is refused by MySQL 8.0.22+
 *   for some types.
 * - Every string and binary column is read as UTF-8 text (BSO ids are
 *   VARBINARY, see sql-schema.ts; nothing binary is stored).
 * - `FOUND_ROWS` is off, so an upsert that changes nothing (our "ignore
 *   duplicate") counts 0 rows, as `ON CONFLICT DO NOTHING` does.
 */
import mysql from 'mysql2/promise';
import { ConflictError, StorageInputError, StorageUnavailableError } from '../storage/errors.js';
import {
  DatabaseClaimedError,
  type DatabaseClaim,
  type DatabaseClaimMode,
} from './database-claim.js';
import type {
  SqlDialect,
  SqlDriver,
  SqlExecutor,
  SqlLease,
  SqlRow,
  SqlValue,
} from './sql-types.js';

export interface MysqlDriverOptions {
  /** `mysql://user:password@host:port/database` (also `mariadb://`). */
  url: string;
  /** Pool size. Default 10. */
  maxConnections?: number;
  /** Row-lock wait before `ConflictError`, rounded up to whole seconds. Default 5000 ms. */
  lockTimeoutMs?: number;
  /** Wait for a free pooled connection (reads) or a new one. Default 10000 ms. */
  connectionTimeoutMs?: number;
}

const MIGRATION_LOCK = "'syncstorage-ts.migrate'";
/** GET_LOCK names are server-wide (64 characters at most): one per database. */
const OWNER_LOCK = "CONCAT('syncstorage-ts.owner.', LEFT(DATABASE(), 40))";

/*
 * Checked against MySQL 8.0's reference manual (MariaDB 10.11 runs them in
 * the tests): START TRANSACTION; SELECT … LOCK IN SHARE MODE and … FOR UPDATE
 * (13.2.13.2 / 15.7.2.4: LOCK IN SHARE MODE kept for compatibility);
 * INSERT … ON DUPLICATE KEY UPDATE c = VALUES(c) (13.2.7.2: VALUES()
 * deprecated since 8.0.20 but accepted; the row alias it recommends is
 * not in MariaDB); multi-table UPDATE t, s SET t.c = … WHERE …
 * (13.2.17); DELETE … WHERE … LIMIT n (13.2.2, single-table form);
 * CAST(? AS SIGNED), CAST(x AS CHAR) (12.11); SELECT LAST_INSERT_ID() (12.16, no INSERT … RETURNING
 * in MySQL 8); ORDER BY … DESC (NULLs sort first ascending, so last
 * descending: 8.2.1.16); GET_LOCK / RELEASE_LOCK (12.15).
 */
export const mysqlDialect: SqlDialect = Object.freeze({
  name: 'mysql',
  beginWrite: 'START TRANSACTION',
  beginRead: 'START TRANSACTION',
  forShare: 'LOCK IN SHARE MODE',
  forUpdate: 'FOR UPDATE',
  readNeedsSnapshotQuery: false,
  writableCte: false,
  bulkRows: 'values',
  // DDL commits on its own in MySQL, so the lock is the connection's, not the transaction's.
  migrationLock: `SELECT GET_LOCK(${MIGRATION_LOCK}, 60)`,
  migrationUnlock: `SELECT RELEASE_LOCK(${MIGRATION_LOCK})`,
  // No shared named locks in MySQL: a sharer checks that no owner holds the lock.
  claimLock: {
    owner: `SELECT GET_LOCK(${OWNER_LOCK}, 0) AS ok`,
    sharer: null,
    claimCheckRelease: `SELECT RELEASE_LOCK(${OWNER_LOCK})`,
  },
  ignoreDuplicate: (keyColumn: string) => `ON DUPLICATE KEY UPDATE ${keyColumn} = ${keyColumn}`,
  upsert: (_keyColumns: string, assignments: string) => `ON DUPLICATE KEY UPDATE ${assignments}`,
  inserted: (column: string) => `VALUES(${column})`,
  updateJoined: (
    target: string,
    source: string,
    assignments: ReadonlyArray<readonly [string, string]>,
    where: string,
  ) =>
    `UPDATE ${target}, ${source} SET ${assignments
      .map(([column, value]) => `${target}.${column} = ${value}`)
      .join(', ')} WHERE ${where}`,
  lastInsertId: 'SELECT LAST_INSERT_ID() AS id',
  identityCatchUp: () => null,
  bigintCast: 'SIGNED',
  textCast: 'CHAR',
  intCast: 'SIGNED',
  descNullsLast: (column: string) => `${column} DESC`,
  boundedDelete: (table: string, condition: string) =>
    `DELETE FROM ${table} WHERE ${condition} LIMIT ?`,
});

/** Error codes of a connection that is gone (mysql2's and the server's). */
const LOST_CONNECTION = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_CON_COUNT_ERROR',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errno(error: unknown): number | undefined {
  const value = (error as { errno?: unknown } | null)?.errno;
  return typeof value === 'number' ? value : undefined;
}

export function isLostConnection(error: unknown): boolean {
  const code = errorCode(error);
  // 1927: MariaDB's ER_CONNECTION_KILLED; 2006/2013: the server went away.
  const number = errno(error);
  return (
    (code !== undefined && LOST_CONNECTION.has(code)) ||
    number === 1927 ||
    number === 2006 ||
    number === 2013 ||
    (error as { fatal?: unknown } | null)?.fatal === true
  );
}

/** Text and binary columns as UTF-8 strings (see the file comment). */
const TEXT_TYPES = new Set([
  'VAR_STRING',
  'STRING',
  'BLOB',
  'TINY_BLOB',
  'MEDIUM_BLOB',
  'LONG_BLOB',
]);
const typeCast: mysql.TypeCast = (field, next) =>
  TEXT_TYPES.has(field.type) ? field.string('utf8') : next();

type Connection = mysql.PoolConnection;

class MysqlExecutor implements SqlExecutor {
  #inTransaction = false;

  constructor(
    public connection: Connection,
    private readonly replace: () => Promise<Connection>,
  ) {}

  async #query(sql: string, params: readonly SqlValue[], rowsAsArray: boolean): Promise<unknown> {
    const options = { sql, values: params as SqlValue[], rowsAsArray };
    const begins = sql === mysqlDialect.beginWrite;
    try {
      const [result] = await this.connection.query(options);
      this.#track(sql, begins);
      return result;
    } catch (error) {
      const retryable =
        isLostConnection(error) && !this.#inTransaction && (begins || /^\s*SELECT\b/i.test(sql));
      if (!retryable) {
        if (isLostConnection(error)) this.#inTransaction = false;
        throw error;
      }
      this.connection.destroy();
      this.connection = await this.replace();
      const [result] = await this.connection.query(options);
      this.#track(sql, begins);
      return result;
    }
  }

  #track(sql: string, begins: boolean): void {
    if (begins) this.#inTransaction = true;
    else if (sql === 'COMMIT' || sql === 'ROLLBACK') this.#inTransaction = false;
  }

  async all<R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []) {
    return (await this.#query(sql, params, false)) as R[];
  }

  async get<R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []) {
    return (await this.all<R>(sql, params))[0];
  }

  async rows(sql: string, params: readonly SqlValue[] = []): Promise<SqlValue[][]> {
    return (await this.#query(sql, params, true)) as SqlValue[][];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const result = (await this.#query(sql, params, false)) as { affectedRows?: number };
    return typeof result?.affectedRows === 'number' ? result.affectedRows : 0;
  }
}

export class MysqlDriver implements SqlDriver {
  readonly dialect = mysqlDialect;
  readonly #pool: mysql.Pool;
  readonly #connectionTimeoutMs: number;
  readonly #sessionSetup: string;
  readonly #prepared = new WeakSet<object>();
  /** For the claim's own session (database-claim.ts). */
  readonly #url: string;
  #closed = false;
  #claim: DatabaseClaim | undefined;

  constructor(options: MysqlDriverOptions) {
    const url = options.url.replace(/^mariadb:/i, 'mysql:');
    this.#url = url;
    this.#connectionTimeoutMs = options.connectionTimeoutMs ?? 10_000;
    const lockWaitSeconds = Math.max(1, Math.ceil((options.lockTimeoutMs ?? 5000) / 1000));
    this.#pool = mysql.createPool({
      uri: url,
      connectionLimit: options.maxConnections ?? 10,
      connectTimeout: this.#connectionTimeoutMs,
      charset: 'UTF8MB4_BIN',
      flags: ['-FOUND_ROWS'],
      supportBigNumbers: true,
      decimalNumbers: true,
      dateStrings: true,
      typeCast,
      enableKeepAlive: true,
    });
    this.#sessionSetup = `SET SESSION innodb_lock_wait_timeout = ${lockWaitSeconds},
      sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'`;
  }

  /** Session settings, once per physical connection, before its first statement of ours. */
  async #prepare(connection: Connection): Promise<void> {
    if (this.#prepared.has(connection.connection)) return;
    await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await connection.query(this.#sessionSetup);
    this.#prepared.add(connection.connection);
  }

  async #connection(timeoutMs: number, onTimeout: () => Error): Promise<Connection> {
    if (this.#closed) throw new StorageUnavailableError('storage is closed');
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const pending = this.#pool.getConnection().then(async (connection) => {
      try {
        await this.#prepare(connection);
        return connection;
      } catch (error) {
        connection.destroy();
        throw error;
      }
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(onTimeout());
      }, timeoutMs);
    });
    // A connection that arrives after the timeout goes back to the pool.
    pending.then(
      (connection) => timedOut && connection.release(),
      () => undefined,
    );
    try {
      return await Promise.race([pending, timeout]);
    } catch (error) {
      if (timedOut) throw error;
      throw this.translateError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  async #lease(timeoutMs: number, onTimeout: () => Error): Promise<SqlLease> {
    const connection = await this.#connection(timeoutMs, onTimeout);
    const executor = new MysqlExecutor(connection, () =>
      this.#connection(this.#connectionTimeoutMs, () => this.#unavailable()),
    );
    let released = false;
    return {
      executor,
      release: (discard?: boolean) => {
        if (released) return;
        released = true;
        if (discard === true) executor.connection.destroy();
        else executor.connection.release();
      },
    };
  }

  #unavailable(): Error {
    return new StorageUnavailableError(
      `no MySQL connection within ${this.#connectionTimeoutMs} ms`,
    );
  }

  acquireRead(): Promise<SqlLease> {
    return this.#lease(this.#connectionTimeoutMs, () => this.#unavailable());
  }

  acquireWrite(timeoutMs: number): Promise<SqlLease> {
    return this.#lease(
      timeoutMs,
      () => new ConflictError(`no MySQL connection within ${timeoutMs} ms (lockTimeoutMs)`),
    );
  }

  /**
   * `GET_LOCK` on a connection of its own, outside the pool: the lock lives
   * as long as that session (and the process). A sharer takes and at once
   * releases the owner's lock, to see that no owner runs.
   */
  async claim(mode: DatabaseClaimMode): Promise<DatabaseClaim> {
    if (this.#closed) throw new StorageUnavailableError('storage is closed');
    if (this.#claim) return this.#claim;
    const lock = mysqlDialect.claimLock!;
    let session: mysql.Connection;
    try {
      session = await mysql.createConnection({ uri: this.#url, connectTimeout: 10_000 });
    } catch (error) {
      throw this.translateError(error);
    }
    session.on('error', () => undefined);
    const end = () => session.end().catch(() => session.destroy());
    let granted: boolean;
    try {
      const [rows] = await session.query<mysql.RowDataPacket[]>(lock.owner);
      granted = Number(rows[0]?.ok) === 1;
      if (granted && mode === 'sharer') await session.query(lock.claimCheckRelease!);
    } catch (error) {
      await end();
      throw this.translateError(error);
    }
    if (!granted || mode === 'sharer') await end();
    if (!granted) throw new DatabaseClaimedError(mode, 'this MySQL database');
    this.#claim = {
      mode,
      release: async () => {
        this.#claim = undefined;
        if (mode === 'owner') await end();
      },
    };
    return this.#claim;
  }

  translateError(error: unknown): unknown {
    if (
      error instanceof ConflictError ||
      error instanceof StorageUnavailableError ||
      error instanceof StorageInputError
    ) {
      return error;
    }
    const number = errno(error);
    // 1205 lock wait timeout, 1213 deadlock, 3058 GET_LOCK deadlock.
    if (number === 1205 || number === 1213 || number === 3058) {
      return new ConflictError('lock wait timed out or deadlocked; retry', { cause: error });
    }
    // 1264 out of range, 1406 data too long.
    if (number === 1264 || number === 1406) {
      return new StorageInputError('value out of range for the database column', {
        cause: error,
      });
    }
    if (number === 1045) {
      return new StorageUnavailableError('MySQL refused the user name or password', {
        cause: error,
      });
    }
    if (number === 1049) {
      return new StorageUnavailableError('the MySQL database does not exist', { cause: error });
    }
    if (isLostConnection(error)) {
      return new StorageUnavailableError('MySQL is unavailable', { cause: error });
    }
    return error;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
    await this.#claim?.release();
  }
}
