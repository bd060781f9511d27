/**
 * PostgreSQL through node-postgres with a pool. Read and write locks are row
 * locks on the user's `user_collections` row (`FOR SHARE` / `FOR UPDATE`);
 * the pool's `lock_timeout` turns a lock held too long into an error that
 * `translateError` maps to `ConflictError`.
 */
import pg from 'pg';
import { standardSqlSyntax } from './standard-sql-syntax.js';
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

export interface PostgresDriverOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Pool size. Default 10. */
  maxConnections?: number;
  /** Row-lock wait before `ConflictError`. Default 5000 ms. */
  lockTimeoutMs?: number;
  /** Wait for a free pooled connection. Default 10000 ms. */
  connectionTimeoutMs?: number;
}

export const postgresDialect: SqlDialect = Object.freeze({
  name: 'postgres',
  beginWrite: 'BEGIN',
  beginRead: 'BEGIN',
  forShare: 'FOR SHARE',
  forUpdate: 'FOR UPDATE',
  readNeedsSnapshotQuery: false,
  writableCte: true,
  bulkRows: 'arrays',
  // Two servers starting at once would race on CREATE TABLE IF NOT EXISTS.
  migrationLock: 'SELECT pg_advisory_xact_lock(7402519043)',
  // Session locks on one key: an owner excludes every other claim, sharers
  // only an owner. The two-int4 key form lives apart from the bigint keys
  // the migrations take (PostgreSQL keeps the forms distinct), so it never
  // meets them.
  claimLock: {
    owner: 'SELECT pg_try_advisory_lock(740251, 13) AS ok',
    sharer: 'SELECT pg_try_advisory_lock_shared(740251, 13) AS ok',
  },
  ...standardSqlSyntax,
  identityCatchUp: (table: string, column: string) =>
    `SELECT setval(pg_get_serial_sequence('${table}', '${column}'),
       GREATEST((SELECT MAX(${column}) FROM ${table}), 1))`,
  boundedDelete: (table: string, condition: string) =>
    `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${condition} LIMIT ?))`,
});

const INT8_OID = 20;

/**
 * BIGINT columns (ms timestamps, counts) come back as JS numbers: they stay
 * far below 2^53. Set per pool, not through pg's global type registry.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
};

/** `?` placeholders (our SQL never has a literal `?`) to `$1, $2, …`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

class PostgresExecutor implements SqlExecutor {
  constructor(private readonly client: pg.PoolClient) {}

  async all<R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []) {
    const result = await this.client.query(numbered(sql), params as SqlValue[]);
    return result.rows as R[];
  }

  async get<R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []) {
    return (await this.all<R>(sql, params))[0];
  }

  async rows(sql: string, params: readonly SqlValue[] = []): Promise<SqlValue[][]> {
    const result = await this.client.query<SqlValue[]>({
      text: numbered(sql),
      values: params as SqlValue[],
      rowMode: 'array',
    });
    return result.rows;
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const result = await this.client.query(numbered(sql), params as SqlValue[]);
    return result.rowCount ?? 0;
  }
}

const CONFLICT_CODES = new Set(['55P03', '40P01', '40001']);

/** How often a lost sharer claim is tried again. */
const RECLAIM_INTERVAL_MS = 500;

export class PostgresDriver implements SqlDriver {
  readonly dialect = postgresDialect;
  readonly #pool: pg.Pool;
  /** For the claim's own session (database-claim.ts). */
  readonly #url: string;
  #closed = false;
  #claim: DatabaseClaim | undefined;
  /** Set once the claim's session dropped: every lease is refused from then on. */
  #claimLost: StorageUnavailableError | undefined;

  constructor(options: PostgresDriverOptions) {
    this.#url = options.url;
    this.#pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
      lock_timeout: options.lockTimeoutMs ?? 5000,
      types,
    });
    // An idle client losing its connection must not crash the process.
    this.#pool.on('error', () => undefined);
  }

  async #lease(): Promise<SqlLease> {
    if (this.#closed) throw new StorageUnavailableError('storage is closed');
    if (this.#claimLost) throw this.#claimLost;
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw new StorageUnavailableError('PostgreSQL is unavailable', { cause: error });
    }
    let released = false;
    return {
      executor: new PostgresExecutor(client),
      release: (discard?: boolean) => {
        if (released) return;
        released = true;
        client.release(discard === true);
      },
    };
  }

  acquireRead(): Promise<SqlLease> {
    return this.#lease();
  }

  acquireWrite(_timeoutMs: number): Promise<SqlLease> {
    return this.#lease();
  }

  /**
   * A session advisory lock on a connection of its own, outside the pool:
   * it lives as long as that session (and the process). If the session
   * drops (PostgreSQL restarted, backend terminated) the lock is gone and
   * taking it again would not be enough: another process may have used the
   * database in the gap, so an owner's in-process cache can be stale. An
   * owner fails closed instead: every later request is refused (503,
   * heartbeat down) until the process is restarted and claims afresh. A
   * sharer keeps nothing of its own, so it may take its claim again once
   * PostgreSQL answers (requests are refused meanwhile); if an owner took
   * the database in the gap, that fails and the sharer stays refused. See
   * README "Production".
   */
  async claim(mode: DatabaseClaimMode): Promise<DatabaseClaim> {
    if (this.#closed) throw new StorageUnavailableError('storage is closed');
    if (this.#claim) return this.#claim;
    const session = new pg.Client({ connectionString: this.#url });
    let released = false;
    session.on('error', () => undefined);
    session.on('end', () => {
      if (released || this.#closed || this.#claim?.mode !== mode) return;
      this.#claim = undefined;
      if (mode === 'owner') {
        this.#claimLost = new StorageUnavailableError(
          "this process's owner claim on the PostgreSQL database was lost (its session ended, e.g. PostgreSQL restarted): " +
            'refusing every request until the process is restarted',
        );
        return;
      }
      this.#claimLost = new StorageUnavailableError(
        "this process's sharer claim on the PostgreSQL database was lost (its session ended, e.g. PostgreSQL restarted): " +
          'refusing requests until it is taken again',
      );
      void this.#reclaimSharer();
    });
    try {
      await session.connect();
    } catch (error) {
      throw new StorageUnavailableError('PostgreSQL is unavailable', { cause: error });
    }
    const lock = postgresDialect.claimLock;
    const sql = lock && (mode === 'owner' ? lock.owner : lock.sharer);
    const granted = sql ? (await session.query<{ ok: boolean }>(sql)).rows[0]?.ok === true : false;
    if (!granted) {
      await session.end().catch(() => undefined);
      throw new DatabaseClaimedError(mode, 'this PostgreSQL database');
    }
    this.#claim = {
      mode,
      release: async () => {
        released = true;
        this.#claim = undefined;
        await session.end().catch(() => undefined);
      },
    };
    return this.#claim;
  }

  /** Take a lost sharer claim again once PostgreSQL answers; an owner in the gap keeps us refused. */
  async #reclaimSharer(): Promise<void> {
    while (!this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, RECLAIM_INTERVAL_MS).unref());
      if (this.#closed) return;
      try {
        await this.claim('sharer');
        this.#claimLost = undefined;
        return;
      } catch (error) {
        if (error instanceof DatabaseClaimedError) {
          this.#claimLost = new StorageUnavailableError(
            "this process's sharer claim on the PostgreSQL database was lost and a process with the in-process cache " +
              'took the database meanwhile: refusing every request until that process stops and this one is restarted',
          );
          return;
        }
        // PostgreSQL not back yet: try again.
      }
    }
  }

  /** Why requests are refused: the claim's session was lost (see `claim`). */
  checkHealth(): string | undefined {
    return this.#claimLost?.message;
  }

  translateError(error: unknown): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string') return error;
    if (CONFLICT_CODES.has(code)) {
      return new ConflictError('lock wait timed out or conflicted; retry', { cause: error });
    }
    if (code === '22003' || code === '22001') {
      return new StorageInputError('value out of range for the database column', {
        cause: error,
      });
    }
    if (
      code.startsWith('08') ||
      code === '57P01' ||
      code === 'ECONNREFUSED' ||
      code === 'ECONNRESET'
    ) {
      return new StorageUnavailableError('PostgreSQL is unavailable', { cause: error });
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
