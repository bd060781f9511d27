/**
 * Who may cache a database's data in its own memory: a process-wide claim
 * that the database itself enforces, so two processes can never both keep
 * an in-process copy of one user's metadata (issue 13, case 1).
 *
 * - `owner`: this process caches in process memory; nobody else may use
 *   the storage tables meanwhile.
 * - `sharer`: this process keeps nothing of its own (memcached, or no
 *   cache); any number may share, none while an owner runs.
 *
 * The lock lives where the data does and dies with the process: a
 * PostgreSQL session advisory lock (exclusive / shared on one key), a
 * MySQL `GET_LOCK` (the dialect's `claimLock`), and for SQLite a lock on a
 * companion file `<db>.claim` (an SQLite EXCLUSIVE or SHARED lock, which
 * the kernel releases when the process dies). The SQLite claim never locks
 * the database file itself, so other connections of the same process (the
 * token server's) are never locked out: the claim is per process, not per
 * connection.
 */
import Database from 'better-sqlite3';
import { StorageError } from '../storage/errors.js';

export type DatabaseClaimMode = 'owner' | 'sharer';

export interface DatabaseClaim {
  readonly mode: DatabaseClaimMode;
  release(): Promise<void>;
}

/** Another process holds a claim that excludes ours. The message is the operator's one line. */
export class DatabaseClaimedError extends StorageError {
  readonly code = 'DATABASE_CLAIMED';
  constructor(
    readonly mode: DatabaseClaimMode,
    database: string,
  ) {
    super(
      mode === 'owner'
        ? `another process is using ${database}: an in-process cache needs the database to itself; ` +
            'to run several processes give each --memcached host:port (shared cache) or --cache none'
        : `a process with the in-process cache owns ${database}: stop it, or restart it with ` +
            '--memcached host:port or --cache none so processes can share the database',
    );
  }
}

/** The companion file that carries an SQLite database's claim. */
export function sqliteClaimPath(path: string): string {
  return `${path}.claim`;
}

/**
 * Claim an SQLite database through its companion file. An owner holds an
 * EXCLUSIVE lock (`BEGIN EXCLUSIVE` in rollback-journal mode), a sharer a
 * SHARED one (a read inside an open transaction); neither ever commits.
 * `busy_timeout = 0`: a conflict answers at once.
 */
export function claimSqliteFile(path: string, mode: DatabaseClaimMode): DatabaseClaim {
  const db = new Database(sqliteClaimPath(path));
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('journal_mode = DELETE');
    if (mode === 'owner') {
      db.exec('BEGIN EXCLUSIVE');
    } else {
      db.exec('BEGIN DEFERRED');
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    }
  } catch (error) {
    db.close();
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) {
      throw new DatabaseClaimedError(mode, 'this SQLite file');
    }
    throw error;
  }
  let released = false;
  return {
    mode,
    release: async () => {
      if (released) return;
      released = true;
      db.close();
    },
  };
}
