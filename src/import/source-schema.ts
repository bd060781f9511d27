/**
 * Which server wrote a source database, from its tables and columns:
 *
 * - ours, or Mozilla's old Python server (server-syncstorage, the layout we
 *   keep): `collections(collectionid, name)`, `user_collections`, `bso` or
 *   shards `bso0…bsoN`, `ttl` in seconds;
 * - syncstorage-rs on MySQL: the same tables after its migrations, but
 *   `collections(id, name)` and `bso.ttl` in milliseconds (its `expiry`
 *   renamed, syncstorage-mysql/migrations/2019-09-11-164500);
 * - syncstorage-rs on PostgreSQL (syncstorage-postgres/migrations/
 *   2025-10-20-155711_create_schema): `bsos(user_id, collection_id, bso_id,
 *   …)` with TIMESTAMPTZ `modified` and `expiry`, `user_collections
 *   (user_id, collection_id, modified)`, `collections(collection_id, name)`;
 *   `user_id` is the token server's uid. An earlier draft of that migration
 *   keyed rows by FxA uid and key id (`fxa_uid`, `fxa_kid`) instead: that
 *   one is recognised and refused.
 *
 * Anything else is refused with the tables found.
 */
import type { SqlDialectName, SqlExecutor } from '../sql/sql-types.js';

export type SourceKind =
  'syncstorage-ts' | 'server-syncstorage' | 'syncstorage-rs-mysql' | 'syncstorage-rs-postgres';

/**
 * What the import reads, as SQL: column names, and expressions giving
 * milliseconds (`modified`, `lastModified`) and the expiry in `ttlUnit`.
 */
export interface SourceColumns {
  user: string;
  collection: string;
  id: string;
  modified: string;
  expiry: string;
  lastModified: string;
}

/** Ours, server-syncstorage's and syncstorage-rs MySQL's names. */
export const BSO_COLUMNS: SourceColumns = {
  user: 'userid',
  collection: 'collection',
  id: 'id',
  modified: 'modified',
  expiry: 'ttl',
  lastModified: 'last_modified',
};

// TIMESTAMPTZ to integer milliseconds / seconds (syncstorage-rs keeps ms precision).
const epochMs = (column: string) => `CAST(ROUND(EXTRACT(EPOCH FROM ${column}) * 1000) AS BIGINT)`;

const POSTGRES_RS_COLUMNS: SourceColumns = {
  user: 'user_id',
  collection: 'collection_id',
  id: 'bso_id',
  modified: epochMs('modified'),
  expiry: `CAST(FLOOR(EXTRACT(EPOCH FROM expiry)) AS BIGINT)`,
  lastModified: epochMs('modified'),
};

export interface SourceSchema {
  kind: SourceKind;
  /** BSO tables, by shard (`userid % length`), or the one `bso`. */
  bsoTables: string[];
  /** The id column of `collections`. */
  collectionIdColumn: 'collectionid' | 'id' | 'collection_id';
  columns: SourceColumns;
  /** What a `bso.ttl` counts: absolute seconds (ours) or milliseconds (syncstorage-rs). */
  ttlUnit: 'seconds' | 'ms';
  /** The token server's `users`, `nodes`, `services` live in the same database. */
  hasTokenserverTables: boolean;
}

export class UnknownSourceError extends Error {}

/** The catalog queries, per dialect (the only dialect-specific SQL of the import). */
const CATALOG: Record<SqlDialectName, { tables: string; columns: string }> = {
  sqlite: {
    tables: "SELECT name FROM sqlite_master WHERE type = 'table'",
    columns: 'SELECT name FROM pragma_table_info(?)',
  },
  postgres: {
    tables:
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()',
    columns:
      'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?',
  },
  mysql: {
    tables:
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()',
    columns:
      'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?',
  },
};

async function names(executor: SqlExecutor, sql: string, params: string[] = []): Promise<string[]> {
  const rows = await executor.rows(sql, params);
  return rows.map(([name]) => String(name).toLowerCase());
}

/** Whether the database holds the token server's `users`, `nodes` and `services`. */
export async function hasTokenserverTables(
  executor: SqlExecutor,
  dialect: SqlDialectName,
): Promise<boolean> {
  const tables = new Set(await names(executor, CATALOG[dialect].tables));
  return TOKENSERVER_TABLES.every((t) => tables.has(t));
}

const TOKENSERVER_TABLES = ['users', 'nodes', 'services'];

export async function detectSourceSchema(
  executor: SqlExecutor,
  dialect: SqlDialectName,
): Promise<SourceSchema> {
  const catalog = CATALOG[dialect];
  const tables = new Set(await names(executor, catalog.tables));
  const columns = (table: string) => names(executor, catalog.columns, [table]);
  const hasTokenserverTables = TOKENSERVER_TABLES.every((t) => tables.has(t));
  if (tables.has('bsos')) {
    const bsosColumns = await columns('bsos');
    if (bsosColumns.includes('fxa_uid')) {
      throw new UnknownSourceError(
        'this is a syncstorage-rs PostgreSQL database from the draft keyed by FxA uid and key id ' +
          '(bsos.fxa_uid, fxa_kid): not importable, its rows carry no token-server uid; ' +
          'migrate it to the released schema (bsos.user_id) first',
      );
    }
    for (const needed of ['user_id', 'collection_id', 'bso_id', 'modified', 'expiry']) {
      if (!bsosColumns.includes(needed)) {
        throw new UnknownSourceError(`bsos has no ${needed} column: unknown layout`);
      }
    }
    return {
      kind: 'syncstorage-rs-postgres',
      bsoTables: ['bsos'],
      collectionIdColumn: 'collection_id',
      columns: POSTGRES_RS_COLUMNS,
      ttlUnit: 'seconds',
      hasTokenserverTables,
    };
  }
  if (!tables.has('collections') || !tables.has('user_collections')) {
    throw new UnknownSourceError(
      `not a sync storage database this import knows: no collections / user_collections tables ` +
        `(found: ${[...tables].sort().join(', ') || 'no tables'})`,
    );
  }
  const shards = [...tables].filter((t) => /^bso\d+$/.test(t));
  const bsoTables = tables.has('bso')
    ? ['bso']
    : shards.length > 0
      ? Array.from({ length: shards.length }, (_, n) => `bso${n}`)
      : [];
  if (bsoTables.length === 0 || bsoTables.some((t) => !tables.has(t))) {
    throw new UnknownSourceError(
      `no bso table (or bso0…bsoN shards without gaps) in the source (found: ${[...tables].sort().join(', ')})`,
    );
  }
  const collectionColumns = await columns('collections');
  const bsoColumns = await columns(bsoTables[0]!);
  for (const needed of ['userid', 'collection', 'id', 'sortindex', 'payload', 'modified', 'ttl']) {
    if (!bsoColumns.includes(needed)) {
      throw new UnknownSourceError(`${bsoTables[0]} has no ${needed} column: unknown layout`);
    }
  }
  if (collectionColumns.includes('collectionid')) {
    return {
      kind: tables.has('syncstorage_schema') ? 'syncstorage-ts' : 'server-syncstorage',
      bsoTables,
      collectionIdColumn: 'collectionid',
      columns: BSO_COLUMNS,
      ttlUnit: 'seconds',
      hasTokenserverTables,
    };
  }
  if (collectionColumns.includes('id')) {
    return {
      kind: 'syncstorage-rs-mysql',
      bsoTables,
      collectionIdColumn: 'id',
      columns: BSO_COLUMNS,
      ttlUnit: 'ms',
      hasTokenserverTables,
    };
  }
  throw new UnknownSourceError(
    `collections has neither collectionid (ours, server-syncstorage) nor id (syncstorage-rs MySQL)`,
  );
}
