/**
 * Tables, in the layout of server-syncstorage (`syncstorage/storage/sql/
 * dbconnect.py`), so that a database written by the old Python server opens
 * as it is: `collections`, `user_collections`, `bso` (or shards `bso0…`),
 * `batch_uploads`, `batch_upload_items` (or shards). Column names and
 * meanings are kept: `modified` and `last_modified` are ms, `ttl` is an
 * absolute expiry in seconds, `payload_size` bytes, `ttl_offset` seconds.
 *
 * Schema creation is idempotent (`IF NOT EXISTS`) and versioned in a table
 * of our own, `syncstorage_schema`, so later migrations run once.
 */
import type { SqlDialectName, SqlExecutor } from '../../sql/sql-types.js';

/** The `ttl` of rows that never expire (seconds; fits the old INTEGER column). */
export const MAX_TTL = 2_100_000_000;

export const SCHEMA_VERSION = 2;

/**
 * Tables of our own beside the old layout (version 2), which the old Python
 * server never reads, so dropping them undoes the migration:
 * - `syncstorage_usage`: per user and collection, the bytes and rows stored
 *   (expired rows included until purged), kept by every write in its own
 *   transaction: the quota check and the operator's totals read it instead
 *   of summing the BSO table.
 * - `syncstorage_quotas`: a per-user quota overriding the global one.
 */
export const USAGE_TABLE = 'syncstorage_usage';
export const QUOTA_TABLE = 'syncstorage_quotas';

/** Which physical tables hold a user's rows. */
export interface TableNames {
  bso: string;
  batchItems: string;
}

export class ShardLayout {
  /** `shards` 0 or 1: the single `bso` / `batch_upload_items` tables. */
  constructor(readonly shards: number) {
    if (!Number.isInteger(shards) || shards < 0 || shards > 1000) {
      throw new RangeError(`shards must be an integer from 0 to 1000, got ${shards}`);
    }
  }

  get sharded(): boolean {
    return this.shards > 1;
  }

  /** Tables for a user: `userid % shards`, as the old server did. */
  forUser(userId: number): TableNames {
    if (!this.sharded) return { bso: 'bso', batchItems: 'batch_upload_items' };
    const n = userId % this.shards;
    return { bso: `bso${n}`, batchItems: `batch_upload_items${n}` };
  }

  all(): TableNames[] {
    if (!this.sharded) return [this.forUser(0)];
    return Array.from({ length: this.shards }, (_, n) => ({
      bso: `bso${n}`,
      batchItems: `batch_upload_items${n}`,
    }));
  }
}

function schemaStatements(dialect: SqlDialectName, layout: ShardLayout): string[] {
  const pg = dialect === 'postgres';
  // New PostgreSQL databases get BIGINT user ids (uids are up to 10 digits);
  // an old database keeps its INTEGER columns.
  const uid = pg ? 'BIGINT' : 'INTEGER';
  const statements = [
    `CREATE TABLE IF NOT EXISTS collections (
       collectionid ${pg ? 'SERIAL' : 'INTEGER'} NOT NULL PRIMARY KEY,
       name VARCHAR(32) NOT NULL UNIQUE)`,
    `CREATE TABLE IF NOT EXISTS user_collections (
       userid ${uid} NOT NULL,
       collection INTEGER NOT NULL,
       last_modified BIGINT NOT NULL,
       PRIMARY KEY (userid, collection))`,
    `CREATE TABLE IF NOT EXISTS batch_uploads (
       batch BIGINT NOT NULL,
       userid ${uid} NOT NULL,
       collection INTEGER NOT NULL,
       PRIMARY KEY (batch, userid))`,
  ];
  for (const { bso, batchItems } of layout.all()) {
    statements.push(
      `CREATE TABLE IF NOT EXISTS ${bso} (
         userid ${uid} NOT NULL,
         collection INTEGER NOT NULL,
         id VARCHAR(64) NOT NULL,
         sortindex INTEGER,
         modified BIGINT NOT NULL,
         payload TEXT NOT NULL,
         payload_size INTEGER NOT NULL DEFAULT 0,
         ttl INTEGER NOT NULL DEFAULT ${MAX_TTL},
         PRIMARY KEY (userid, collection, id))`,
      // Index names carry the table name: SQLite index names are global.
      `CREATE INDEX IF NOT EXISTS ${bso}_ttl_idx ON ${bso} (ttl)`,
      `CREATE INDEX IF NOT EXISTS ${bso}_usr_col_mod_idx ON ${bso} (userid, collection, modified)`,
      `CREATE TABLE IF NOT EXISTS ${batchItems} (
         batch BIGINT NOT NULL,
         userid ${uid} NOT NULL,
         id VARCHAR(64) NOT NULL,
         sortindex INTEGER,
         payload TEXT,
         payload_size INTEGER,
         ttl_offset INTEGER,
         PRIMARY KEY (batch, userid, id))`,
    );
  }
  return statements;
}

/**
 * Create or migrate the schema. Runs inside the caller's transaction (which
 * on PostgreSQL also holds an advisory lock, so two servers starting at once
 * do not race on `CREATE TABLE`).
 */
export async function migrateSchema(
  executor: SqlExecutor,
  dialect: SqlDialectName,
  layout: ShardLayout,
  standardCollections: ReadonlyMap<string, number>,
): Promise<void> {
  await executor.run(
    `CREATE TABLE IF NOT EXISTS syncstorage_schema (
       name VARCHAR(64) NOT NULL PRIMARY KEY,
       version INTEGER NOT NULL)`,
  );
  const row = await executor.get<{ version: number }>(
    'SELECT version FROM syncstorage_schema WHERE name = ?',
    [layoutKey(layout)],
  );
  const version = row ? Number(row.version) : 0;
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `database schema version ${version} is newer than this server supports (${SCHEMA_VERSION})`,
    );
  }
  // Version 1: the server-syncstorage layout. Every statement is idempotent,
  // so an old Python database gains only what it lacks (e.g. batch tables).
  for (const sql of schemaStatements(dialect, layout)) await executor.run(sql);
  if (version < 2) {
    const uid = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
    await executor.run(
      `CREATE TABLE IF NOT EXISTS ${USAGE_TABLE} (
         userid ${uid} NOT NULL,
         collection INTEGER NOT NULL,
         bytes BIGINT NOT NULL DEFAULT 0,
         items BIGINT NOT NULL DEFAULT 0,
         PRIMARY KEY (userid, collection))`,
    );
    await executor.run(
      `CREATE TABLE IF NOT EXISTS ${QUOTA_TABLE} (
         userid ${uid} NOT NULL PRIMARY KEY,
         quota_bytes BIGINT NOT NULL)`,
    );
    // Rows already there (an old database, or one written before version 2)
    // are counted once; from here on every write keeps the totals.
    await executor.run(`DELETE FROM ${USAGE_TABLE}`);
    for (const { bso } of layout.all()) {
      await executor.run(
        `INSERT INTO ${USAGE_TABLE} (userid, collection, bytes, items)
         SELECT userid, collection, COALESCE(SUM(payload_size), 0), COUNT(*) FROM ${bso}
         GROUP BY userid, collection`,
      );
    }
  }
  // Standard collections keep fixed ids. Where the old database already has
  // the name (under another id) or the id (under another name), its row wins:
  // that is what its bso rows refer to.
  for (const [name, id] of standardCollections) {
    await executor.run(
      'INSERT INTO collections (collectionid, name) VALUES (?, ?) ON CONFLICT DO NOTHING',
      [id, name],
    );
  }
  await executor.run(
    `INSERT INTO syncstorage_schema (name, version) VALUES (?, ?)
     ON CONFLICT (name) DO UPDATE SET version = excluded.version`,
    [layoutKey(layout), SCHEMA_VERSION],
  );
}

function layoutKey(layout: ShardLayout): string {
  return layout.sharded ? `tables-sharded-${layout.shards}` : 'tables';
}
