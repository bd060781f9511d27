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
 *
 * MySQL/MariaDB (the old server's home): InnoDB, utf8mb4 throughout,
 * MEDIUMTEXT payloads (16 MB, above any payload limit), and an index made
 * after looking it up (MySQL 8 has no `CREATE INDEX IF NOT EXISTS`). BSO
 * ids are VARBINARY: ids are printable ASCII with spaces allowed, and the
 * `_bin` collations both servers share pad trailing spaces (`'a' = 'a '`),
 * which would merge two ids; bytes compare exactly, in the same order as
 * SQLite and PostgreSQL's C collation.
 */
import type { SqlDialect, SqlDialectName, SqlExecutor } from '../../sql/sql-types.js';

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

/** What differs between the dialects' tables; the layout itself is the same. */
interface ColumnTypes {
  uid: string;
  collectionId: string;
  bsoId: string;
  payload: string;
  tableOptions: string;
  /**
   * Finds an index by table and name, where the database has no `CREATE
   * INDEX IF NOT EXISTS` (MySQL 8); undefined where it has.
   */
  indexExists?: string;
}

const COLUMN_TYPES: Record<SqlDialectName, ColumnTypes> = {
  // An old SQLite database keeps its INTEGER columns (SQLite integers are 64-bit anyway).
  sqlite: {
    uid: 'INTEGER',
    collectionId: 'INTEGER',
    bsoId: 'VARCHAR(64)',
    payload: 'TEXT',
    tableOptions: '',
  },
  // New PostgreSQL databases get BIGINT user ids (uids are up to 10 digits).
  postgres: {
    uid: 'BIGINT',
    collectionId: 'SERIAL',
    bsoId: 'VARCHAR(64)',
    payload: 'TEXT',
    tableOptions: '',
  },
  mysql: {
    uid: 'BIGINT',
    collectionId: 'INTEGER',
    bsoId: 'VARBINARY(64)',
    payload: 'MEDIUMTEXT',
    tableOptions: ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
    indexExists: `SELECT 1 AS found FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ? LIMIT 1`,
  },
};

interface IndexDefinition {
  /** Carries the table name: SQLite index names are global. */
  name: string;
  table: string;
  columns: string;
}

function schemaObjects(
  dialect: SqlDialectName,
  layout: ShardLayout,
): { tables: string[]; indexes: IndexDefinition[] } {
  const types = COLUMN_TYPES[dialect];
  const { uid, tableOptions } = types;
  const tables = [
    `CREATE TABLE IF NOT EXISTS collections (
       collectionid ${types.collectionId} NOT NULL PRIMARY KEY,
       name VARCHAR(32) NOT NULL UNIQUE)${tableOptions}`,
    `CREATE TABLE IF NOT EXISTS user_collections (
       userid ${uid} NOT NULL,
       collection INTEGER NOT NULL,
       last_modified BIGINT NOT NULL,
       PRIMARY KEY (userid, collection))${tableOptions}`,
    `CREATE TABLE IF NOT EXISTS batch_uploads (
       batch BIGINT NOT NULL,
       userid ${uid} NOT NULL,
       collection INTEGER NOT NULL,
       PRIMARY KEY (batch, userid))${tableOptions}`,
  ];
  // Deleting a user's (or a collection's) batches finds their rows by user:
  // without these a DELETE scans the whole table, and on MySQL it locks
  // other users' rows on the way (deadlocks under load, seen in drill:crash).
  const indexes: IndexDefinition[] = [
    { name: 'batch_uploads_usr_col_idx', table: 'batch_uploads', columns: 'userid, collection' },
  ];
  for (const { bso, batchItems } of layout.all()) {
    tables.push(
      `CREATE TABLE IF NOT EXISTS ${bso} (
         userid ${uid} NOT NULL,
         collection INTEGER NOT NULL,
         id ${types.bsoId} NOT NULL,
         sortindex INTEGER,
         modified BIGINT NOT NULL,
         payload ${types.payload} NOT NULL,
         payload_size INTEGER NOT NULL DEFAULT 0,
         ttl INTEGER NOT NULL DEFAULT ${MAX_TTL},
         PRIMARY KEY (userid, collection, id))${tableOptions}`,
      `CREATE TABLE IF NOT EXISTS ${batchItems} (
         batch BIGINT NOT NULL,
         userid ${uid} NOT NULL,
         id ${types.bsoId} NOT NULL,
         sortindex INTEGER,
         payload ${types.payload},
         payload_size INTEGER,
         ttl_offset INTEGER,
         PRIMARY KEY (batch, userid, id))${tableOptions}`,
    );
    indexes.push(
      { name: `${bso}_ttl_idx`, table: bso, columns: 'ttl' },
      { name: `${bso}_usr_col_mod_idx`, table: bso, columns: 'userid, collection, modified' },
      { name: `${batchItems}_usr_idx`, table: batchItems, columns: 'userid, batch' },
    );
  }
  return { tables, indexes };
}

async function createIndex(
  executor: SqlExecutor,
  dialect: SqlDialectName,
  index: IndexDefinition,
): Promise<void> {
  const { indexExists } = COLUMN_TYPES[dialect];
  const on = `${index.name} ON ${index.table} (${index.columns})`;
  if (!indexExists) {
    await executor.run(`CREATE INDEX IF NOT EXISTS ${on}`);
    return;
  }
  // Under the migration lock, so no other server adds it between the two statements.
  if (!(await executor.get(indexExists, [index.table, index.name]))) {
    await executor.run(`CREATE INDEX ${on}`);
  }
}

/**
 * Create or migrate the schema. Runs inside the caller's transaction (which
 * on PostgreSQL also holds an advisory lock, on MySQL a GET_LOCK, so two
 * servers starting at once do not race on `CREATE TABLE`; MySQL commits each
 * DDL statement by itself, which is why every step is idempotent).
 */
export async function migrateSchema(
  executor: SqlExecutor,
  dialect: SqlDialect,
  layout: ShardLayout,
  standardCollections: ReadonlyMap<string, number>,
): Promise<void> {
  await executor.run(
    `CREATE TABLE IF NOT EXISTS syncstorage_schema (
       name VARCHAR(64) NOT NULL PRIMARY KEY,
       version INTEGER NOT NULL)${COLUMN_TYPES[dialect.name].tableOptions}`,
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
  const { tables, indexes } = schemaObjects(dialect.name, layout);
  for (const sql of tables) await executor.run(sql);
  for (const index of indexes) await createIndex(executor, dialect.name, index);
  if (version < 2) {
    const { uid, tableOptions } = COLUMN_TYPES[dialect.name];
    await executor.run(
      `CREATE TABLE IF NOT EXISTS ${USAGE_TABLE} (
         userid ${uid} NOT NULL,
         collection INTEGER NOT NULL,
         bytes BIGINT NOT NULL DEFAULT 0,
         items BIGINT NOT NULL DEFAULT 0,
         PRIMARY KEY (userid, collection))${tableOptions}`,
    );
    await executor.run(
      `CREATE TABLE IF NOT EXISTS ${QUOTA_TABLE} (
         userid ${uid} NOT NULL PRIMARY KEY,
         quota_bytes BIGINT NOT NULL)${tableOptions}`,
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
      `INSERT INTO collections (collectionid, name) VALUES (?, ?) ${dialect.ignoreDuplicate('collectionid')}`,
      [id, name],
    );
  }
  await executor.run(
    `INSERT INTO syncstorage_schema (name, version) VALUES (?, ?)
     ${dialect.upsert('name', `version = ${dialect.inserted('version')}`)}`,
    [layoutKey(layout), SCHEMA_VERSION],
  );
}

function layoutKey(layout: ShardLayout): string {
  return layout.sharded ? `tables-sharded-${layout.shards}` : 'tables';
}
