/**
 * SQLite through better-sqlite3: the embedded default.
 *
 * - One write connection, guarded by an async mutex: a write session holds
 *   it from `BEGIN IMMEDIATE` to `COMMIT` across awaits, so two sessions
 *   never interleave statements inside one transaction. `busy_timeout`
 *   covers another process writing the same file.
 * - Read sessions use their own connections. In WAL mode each read
 *   transaction sees one snapshot, so a reader never sees half a batch.
 * - SQLite's busy wait blocks the thread. Between processes (a server and
 *   the purge command) waits are as short as the other's statements; two
 *   storages on one file in one process would stall each other up to
 *   `busyTimeoutMs`, so open one storage per file per process.
 * - `:memory:` databases exist per connection, so there everything (reads
 *   too) goes through the single connection and its mutex.
 *
 * Durability: WAL with `synchronous=FULL` by default. A client that got a
 * 200 for a POST never uploads those records again; if a power cut then
 * rolled them back (as `NORMAL` allows for the last commits) its other
 * devices would silently miss them. FULL costs one fsync of the WAL per
 * write transaction (one per POST), which a sync server can afford.
 * `synchronous: 'NORMAL'` trades that for speed where losing the last
 * moments of writes on power loss is acceptable.
 *
 * The file going bad while we run: SQLite keeps writing into a file that was
 * deleted (the open descriptor outlives the name) and would acknowledge
 * writes nobody can read after a restart, so every COMMIT first checks that
 * the path still names the file we opened (one stat). A read-only
 * filesystem, a full disk or an I/O error become `StorageUnavailableError`
 * (503 + Retry-After) naming the file, and `checkHealth` reports them until
 * the cause is gone.
 */
import { accessSync, constants, mkdirSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ConflictError, StorageUnavailableError } from '../storage/errors.js';
import { AsyncMutex } from './async-mutex.js';
import { claimSqliteFile, type DatabaseClaim, type DatabaseClaimMode } from './database-claim.js';
import { standardSqlSyntax } from './standard-sql-syntax.js';
import type {
  SqlDialect,
  SqlDriver,
  SqlExecutor,
  SqlLease,
  SqlRow,
  SqlValue,
} from './sql-types.js';

export interface SqliteDriverOptions {
  /** File path, or `:memory:`. The parent folder is created. */
  path: string;
  /** Read connections kept open (file databases only). Default 4. */
  readConnections?: number;
  /** How long SQLite waits on a lock held by another process. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Default `FULL` (see the file comment). */
  synchronous?: 'NORMAL' | 'FULL';
}

export const sqliteDialect: SqlDialect = Object.freeze({
  name: 'sqlite',
  beginWrite: 'BEGIN IMMEDIATE',
  beginRead: 'BEGIN DEFERRED',
  forShare: '',
  forUpdate: '',
  readNeedsSnapshotQuery: true,
  writableCte: false,
  bulkRows: 'values',
  // BEGIN IMMEDIATE already excludes other writers.
  migrationLock: null,
  // A companion file carries the claim (database-claim.ts).
  claimLock: null,
  ...standardSqlSyntax,
  boundedDelete: (table: string, condition: string) =>
    `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${condition} LIMIT ?)`,
});

type Db = Database.Database;

class SqliteExecutor implements SqlExecutor {
  readonly #statements = new Map<string, Database.Statement>();
  /** Statements in raw mode (rows as arrays), for `rows`. */
  readonly #rawStatements = new Map<string, Database.Statement>();
  /** Run before a COMMIT on the write connection: throws when the file is gone. */
  readonly #beforeCommit: (() => void) | undefined;
  constructor(
    readonly db: Db,
    beforeCommit?: () => void,
  ) {
    this.#beforeCommit = beforeCommit;
  }

  #prepare(sql: string, raw = false): Database.Statement {
    const cache = raw ? this.#rawStatements : this.#statements;
    let statement = cache.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (raw) statement.raw(true);
      // Bounded: queries are built from a small set of shapes, but id lists vary in length.
      if (cache.size > 500) cache.clear();
      cache.set(sql, statement);
    }
    return statement;
  }

  async all<R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []) {
    return this.#prepare(sql).all(...params) as R[];
  }

  async get<R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []) {
    return this.#prepare(sql).get(...params) as R | undefined;
  }

  async rows(sql: string, params: readonly SqlValue[] = []): Promise<SqlValue[][]> {
    return this.#prepare(sql, true).all(...params) as SqlValue[][];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    if (sql === 'COMMIT') this.#beforeCommit?.();
    return this.#prepare(sql).run(...params).changes;
  }
}

export class SqliteDriver implements SqlDriver {
  readonly dialect = sqliteDialect;
  readonly #path: string;
  readonly #memory: boolean;
  readonly #busyTimeoutMs: number;
  readonly #writer: SqliteExecutor;
  readonly #writeMutex = new AsyncMutex();
  readonly #idleReaders: SqliteExecutor[] = [];
  readonly #readerWaiters: Array<(reader: SqliteExecutor) => void> = [];
  readonly #maxReaders: number;
  readonly #allReaders: SqliteExecutor[] = [];
  #closed = false;
  /** The file opened (device and inode), to notice it deleted or replaced. */
  #identity: { dev: number; ino: number } | undefined;
  /** The last write failure the file caused (full disk, read-only, I/O), until a commit succeeds. */
  #fault: { code: string; message: string } | undefined;
  #claim: DatabaseClaim | undefined;

  constructor(options: SqliteDriverOptions) {
    this.#path = options.path;
    this.#memory = options.path === ':memory:' || options.path === '';
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.#maxReaders = Math.max(1, options.readConnections ?? 4);
    if (!this.#memory) mkdirSync(dirname(this.#path), { recursive: true });
    const db = this.#open();
    if (!this.#memory) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    }
    if (!this.#memory) {
      const { dev, ino } = statSync(this.#path);
      this.#identity = { dev, ino };
    }
    this.#writer = new SqliteExecutor(
      db,
      this.#memory ? undefined : () => this.#checkBeforeCommit(),
    );
  }

  /** Why the file cannot take writes now (deleted, replaced, read-only), or undefined. */
  #fileFault(): string | undefined {
    if (!this.#identity) return undefined;
    let stat;
    try {
      stat = statSync(this.#path);
    } catch {
      return `the SQLite file ${this.#path} was deleted while the server ran (restart it to reopen)`;
    }
    if (stat.ino !== this.#identity.ino || stat.dev !== this.#identity.dev) {
      return `the SQLite file ${this.#path} was replaced while the server ran (restart it to reopen)`;
    }
    try {
      accessSync(this.#path, constants.W_OK);
    } catch {
      return `the SQLite file ${this.#path} is read-only`;
    }
    return undefined;
  }

  #checkBeforeCommit(): void {
    const fault = this.#fileFault();
    if (fault) {
      this.#fault = { code: 'FILE', message: fault };
      throw new StorageUnavailableError(fault);
    }
  }

  /**
   * Undefined while the file takes writes; else why not. A full disk counts
   * until a write succeeds or space (1 MiB) is free again.
   */
  checkHealth(): string | undefined {
    const file = this.#fileFault();
    if (file) return file;
    const fault = this.#fault;
    if (fault?.code === 'SQLITE_FULL' && this.#freeBytes() > 1 << 20) this.#fault = undefined;
    return this.#fault?.code === 'FILE' ? undefined : this.#fault?.message;
  }

  #freeBytes(): number {
    try {
      const stats = statfsSync(dirname(this.#path));
      return stats.bavail * stats.bsize;
    } catch {
      return 0;
    }
  }

  #open(): Db {
    const db = new Database(this.#memory ? ':memory:' : this.#path);
    db.pragma(`busy_timeout = ${Math.floor(this.#busyTimeoutMs)}`);
    return db;
  }

  async acquireWrite(timeoutMs: number): Promise<SqlLease> {
    if (this.#closed) throw new StorageUnavailableError('storage is closed');
    const release = await this.#writeMutex.acquire(
      timeoutMs,
      () => new ConflictError(`write lock not obtained within ${timeoutMs} ms (lockTimeoutMs)`),
    );
    return { executor: this.#writer, release };
  }

  async acquireRead(): Promise<SqlLease> {
    if (this.#closed) throw new StorageUnavailableError('storage is closed');
    if (this.#memory) return this.acquireWrite(60_000);
    return this.#readLease(await this.#takeReader());
  }

  acquireReadNow(): SqlLease | undefined {
    if (this.#closed) throw new StorageUnavailableError('storage is closed');
    // `:memory:` reads share the guarded write connection: they may have to wait.
    if (this.#memory) return undefined;
    const idle = this.#idleReaders.pop();
    return idle && this.#readLease(idle);
  }

  #readLease(reader: SqliteExecutor): SqlLease {
    let released = false;
    return {
      executor: reader,
      release: () => {
        if (released) return;
        released = true;
        if (reader.db.inTransaction) reader.db.prepare('ROLLBACK').run();
        const waiter = this.#readerWaiters.shift();
        if (waiter) waiter(reader);
        else this.#idleReaders.push(reader);
      },
    };
  }

  #takeReader(): Promise<SqliteExecutor> {
    const idle = this.#idleReaders.pop();
    if (idle) return Promise.resolve(idle);
    if (this.#allReaders.length < this.#maxReaders) {
      const db = this.#open();
      // A reader must never write: writes go through the one guarded connection.
      db.pragma('query_only = 1');
      const reader = new SqliteExecutor(db);
      this.#allReaders.push(reader);
      return Promise.resolve(reader);
    }
    return new Promise((resolve) => this.#readerWaiters.push(resolve));
  }

  async claim(mode: DatabaseClaimMode): Promise<DatabaseClaim> {
    if (this.#closed) throw new StorageUnavailableError('storage is closed');
    // A `:memory:` database is this connection's alone.
    if (this.#memory) return { mode, release: async () => undefined };
    if (this.#claim) return this.#claim;
    const claim = claimSqliteFile(this.#path, mode);
    this.#claim = {
      mode,
      release: async () => {
        this.#claim = undefined;
        await claim.release();
      },
    };
    return this.#claim;
  }

  translateError(error: unknown): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string') return error;
    if (code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED') {
      return new ConflictError('database is locked; retry', { cause: error });
    }
    const fault = this.#describeFault(code);
    if (fault) {
      this.#fault = { code: code.startsWith('SQLITE_FULL') ? 'SQLITE_FULL' : code, message: fault };
      return new StorageUnavailableError(fault, { cause: error });
    }
    return error;
  }

  /** SQLite's result codes for a file that cannot be written, in words; undefined for others. */
  #describeFault(code: string): string | undefined {
    const file = `the SQLite file ${this.#path}`;
    if (code.startsWith('SQLITE_FULL')) return `the disk holding ${file} is full`;
    if (code.startsWith('SQLITE_READONLY')) return `${file} is read-only`;
    if (code.startsWith('SQLITE_IOERR')) return `${file} cannot be read or written (${code})`;
    if (code.startsWith('SQLITE_CANTOPEN')) return `${file} cannot be opened (${code})`;
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
      return `${file} is damaged (${code})`;
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#idleReaders.length = 0;
    for (const reader of this.#allReaders.splice(0)) reader.db.close();
    this.#writer.db.close();
    await this.#claim?.release();
  }
}
