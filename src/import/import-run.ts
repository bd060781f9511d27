/**
 * `syncstorage import`: copies users' data from another server's database
 * (source-schema.ts says which) into ours, as it is: every BSO with its id,
 * sortindex, payload, modified and expiry, and each collection's timestamp
 * unchanged, so Firefox sees nothing new and uploads nothing again. Custom
 * collections are mapped by name; pending batches are not copied (their
 * clients retry them).
 *
 * - Per user, in chunks of `chunkRows` rows, each chunk one transaction on
 *   the target; rows are upserted by primary key, so a chunk done twice
 *   leaves one row.
 * - Resumable: `syncstorage_import` on the target records each user as
 *   `started` then `done`. A rerun skips done users and redoes a started one
 *   from scratch (its rows are ours), so a crash or Ctrl-C neither loses nor
 *   duplicates anything.
 * - A user whose target data differs from the source is refused (exit 1)
 *   unless `overwrite`; identical data is marked done.
 * - The source must be still: a write less than `quietSeconds` old, or a
 *   user's collection timestamps changing during the copy, stops the import
 *   with how to stop the old server.
 * - The token server's users, nodes and services come along when the
 *   source has them, or from `tokenserverSource` (tokenserver-rows.ts):
 *   uids stay the same.
 * - The verification pass compares, per user and collection, the count,
 *   the collection timestamp and a SHA-256 over every row on both sides.
 */
import { createHash } from 'node:crypto';
import { CollectionRegistry } from '../storage/sql/collection-registry.js';
import { MAX_TTL, ShardLayout, USAGE_TABLE } from '../storage/sql/sql-schema.js';
import { placeholders } from '../storage/sql/find-query.js';
import { STANDARD_COLLECTIONS } from '../storage/sql/standard-collections.js';
import { inWriteTransaction, onReadConnection } from '../sql/sql-transaction.js';
import type { SqlDriver, SqlExecutor, SqlValue } from '../sql/sql-types.js';
import type { SyncStorage } from '../storage/sync-storage.js';
import {
  BSO_COLUMNS,
  detectSourceSchema,
  hasTokenserverTables,
  UnknownSourceError,
  type SourceSchema,
} from './source-schema.js';
import { copyTokenserverRows, type TokenserverCopy } from './tokenserver-rows.js';

export interface ImportOptions {
  source: SqlDriver;
  target: SqlDriver;
  /** The target's storage (migrated), for deleting a user's data on overwrite. */
  targetStorage: SyncStorage;
  /**
   * The token server's database when it is not the source's (syncstorage-rs
   * keeps it apart): its users, nodes and services are copied from there.
   */
  tokenserverSource?: SqlDriver;
  /** Shards of the target (0: one bso table). */
  targetShards?: number;
  /** Only these user ids. */
  users?: readonly number[];
  dryRun?: boolean;
  overwrite?: boolean;
  chunkRows?: number;
  /** A source write younger than this means the old server still runs. Default 60. */
  quietSeconds?: number;
  /** A label for the progress table (the source URL without its password). */
  sourceLabel: string;
  clock?: () => number;
  progress?: (line: string) => void;
}

export interface CollectionDifference {
  userId: number;
  collection: string;
  source: CollectionDigest | undefined;
  target: CollectionDigest | undefined;
}

export interface ImportResult {
  schema: SourceSchema;
  /** Rows of the token server's tables copied (when the source has them). */
  tokenserver?: TokenserverCopy;
  users: number;
  imported: number;
  skipped: number;
  refused: Array<{ userId: number; reason: string }>;
  rows: number;
  differences: CollectionDifference[];
}

export class SourceBeingWrittenError extends Error {}

const STOP_HINT =
  'stop the old server first (systemctl stop syncserver / docker stop <container> / kill its process), ' +
  'then run the import again: it resumes where it stopped';

interface SourceRow {
  collectionId: number;
  id: string;
  sortindex: number | null;
  payload: string;
  modified: number;
  /** Absolute expiry, seconds (our `ttl`). */
  expiry: number;
}

export interface CollectionDigest {
  count: number;
  lastModified: number;
  sha256: string;
}

const PROGRESS_TABLE = 'syncstorage_import';

export async function runImport(options: ImportOptions): Promise<ImportResult> {
  const { source, target } = options;
  const print = options.progress ?? (() => undefined);
  const clock = options.clock ?? Date.now;
  const chunkRows = Math.max(1, options.chunkRows ?? 1000);
  const schema = await onReadConnection(source, (executor) =>
    detectSourceSchema(executor, source.dialect.name),
  );
  print(`source: ${describe(schema)}\n`);
  const tokenserverSource = options.tokenserverSource;
  if (
    tokenserverSource &&
    !(await onReadConnection(tokenserverSource, (executor) =>
      hasTokenserverTables(executor, tokenserverSource.dialect.name),
    ))
  ) {
    throw new UnknownSourceError(
      '--tokenserver-from: no users, nodes and services tables there (not a token server database)',
    );
  }
  const sourceNames = await onReadConnection(source, (executor) =>
    collectionNames(executor, schema),
  );
  const users = await onReadConnection(source, (executor) =>
    sourceUsers(executor, schema, options.users),
  );
  const newest = await onReadConnection(source, async (executor) =>
    Number(
      (
        await executor.get<{ m: unknown }>(
          `SELECT MAX(${schema.columns.lastModified}) AS m FROM user_collections`,
        )
      )?.m ?? 0,
    ),
  );
  const quiet = (options.quietSeconds ?? 60) * 1000;
  if (newest > clock() - quiet) {
    throw new SourceBeingWrittenError(
      `the source was written ${Math.round((clock() - newest) / 1000)} s ago: is the old server still running? ${STOP_HINT}`,
    );
  }
  const result: ImportResult = {
    schema,
    users: users.length,
    imported: 0,
    skipped: 0,
    refused: [],
    rows: 0,
    differences: [],
  };
  if (options.dryRun) {
    let rows = 0;
    for (const table of schema.bsoTables) {
      const row = await onReadConnection(source, (executor) =>
        executor.get<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table}`),
      );
      rows += Number(row?.n ?? 0);
    }
    result.rows = rows;
    print(`dry run: ${users.length} users, ${rows} rows would be imported; nothing written\n`);
    return result;
  }

  const tokenserverFrom = tokenserverSource ?? (schema.hasTokenserverTables ? source : undefined);
  if (tokenserverFrom) {
    result.tokenserver = await copyTokenserverRows(tokenserverFrom, target);
    const t = result.tokenserver;
    print(`token server: ${t.users} users, ${t.nodes} nodes, ${t.services} services copied\n`);
  }
  const layout = new ShardLayout(options.targetShards ?? 0);
  const registry = new CollectionRegistry(target.dialect);
  await inWriteTransaction(target, 60_000, (executor) =>
    executor.run(
      `CREATE TABLE IF NOT EXISTS ${PROGRESS_TABLE} (
         userid BIGINT NOT NULL PRIMARY KEY,
         state VARCHAR(16) NOT NULL,
         source VARCHAR(255) NOT NULL)`,
    ),
  );
  const started = clock();
  for (const [index, userId] of users.entries()) {
    const state = await onReadConnection(
      target,
      async (executor) =>
        (
          await executor.get<{ state: string }>(
            `SELECT state FROM ${PROGRESS_TABLE} WHERE userid = ?`,
            [userId],
          )
        )?.state,
    );
    if (state === 'done') {
      result.skipped++;
      continue;
    }
    const sourceDigest = await digestSource(source, schema, sourceNames, userId);
    const targetDigest = await digestTarget(target, layout, userId);
    if (state !== 'started' && targetDigest.size > 0) {
      if (sameDigests(sourceDigest, targetDigest)) {
        await markUser(target, userId, 'done', options.sourceLabel);
        result.skipped++;
        continue;
      }
      if (!options.overwrite) {
        result.refused.push({
          userId,
          reason: 'the target already holds different data for this user (--overwrite replaces it)',
        });
        continue;
      }
    }
    if (targetDigest.size > 0) await options.targetStorage.deleteStorage(userId);
    await markUser(target, userId, 'started', options.sourceLabel);
    const before = await sourceTimestamps(source, schema, userId);
    let after = { collectionId: -1, id: '' };
    for (;;) {
      const rows = await readChunk(source, schema, userId, after, chunkRows);
      if (rows.length === 0) break;
      await inWriteTransaction(target, 60_000, async (executor) => {
        const ids = new Map<number, number>();
        for (const row of rows) {
          if (!ids.has(row.collectionId)) {
            const name = sourceNames.get(row.collectionId);
            if (name === undefined) continue;
            ids.set(row.collectionId, (await registry.lookupOrCreate(executor, name)).id);
          }
        }
        await writeRows(executor, target, layout.forUser(userId).bso, userId, rows, ids);
      });
      result.rows += rows.length;
      const last = rows[rows.length - 1]!;
      after = { collectionId: last.collectionId, id: last.id };
      const seconds = Math.max(0.001, (clock() - started) / 1000);
      print(
        `users ${index + 1}/${users.length} (uid ${userId}), rows ${result.rows}, ` +
          `${Math.round(result.rows / seconds)} rows/s, ${users.length - index - 1} users left\n`,
      );
      if (rows.length < chunkRows) break;
    }
    const now = await sourceTimestamps(source, schema, userId);
    if (JSON.stringify([...now]) !== JSON.stringify([...before])) {
      throw new SourceBeingWrittenError(
        `user ${userId} changed on the source during the copy: ${STOP_HINT}`,
      );
    }
    await inWriteTransaction(target, 60_000, async (executor) => {
      for (const [collectionId, lastModified] of now) {
        const name = sourceNames.get(collectionId);
        const id =
          collectionId === 0 && schema.kind === 'syncstorage-ts'
            ? 0
            : name === undefined
              ? undefined
              : (await registry.lookupOrCreate(executor, name)).id;
        if (id === undefined || lastModified <= 0) continue;
        const { dialect } = target;
        await executor.run(
          `INSERT INTO user_collections (userid, collection, last_modified) VALUES (?, ?, ?)
           ${dialect.upsert('userid, collection', `last_modified = ${dialect.inserted('last_modified')}`)}`,
          [userId, id, lastModified],
        );
      }
      // The running totals (quota, usage) count what is there now.
      await executor.run(`DELETE FROM ${USAGE_TABLE} WHERE userid = ?`, [userId]);
      await executor.run(
        `INSERT INTO ${USAGE_TABLE} (userid, collection, bytes, items)
         SELECT userid, collection, COALESCE(SUM(payload_size), 0), COUNT(*)
         FROM ${layout.forUser(userId).bso} WHERE userid = ? GROUP BY userid, collection`,
        [userId],
      );
    });
    await markUser(target, userId, 'done', options.sourceLabel);
    result.imported++;
  }

  print('verifying: counts, collection timestamps and SHA-256 per collection on both sides\n');
  for (const userId of users) {
    if (result.refused.some((r) => r.userId === userId)) continue;
    const sourceDigest = await digestSource(source, schema, sourceNames, userId);
    const targetDigest = await digestTarget(target, layout, userId);
    for (const name of new Set([...sourceDigest.keys(), ...targetDigest.keys()])) {
      const a = sourceDigest.get(name);
      const b = targetDigest.get(name);
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        result.differences.push({ userId, collection: name, source: a, target: b });
        print(
          `difference: uid ${userId} ${name}: source ${JSON.stringify(a)}, target ${JSON.stringify(b)}\n`,
        );
      }
    }
  }
  return result;
}

function describe(schema: SourceSchema): string {
  const label = {
    'syncstorage-ts': 'syncstorage-ts',
    'server-syncstorage': "Mozilla's old Python server (server-syncstorage)",
    'syncstorage-rs-mysql': 'syncstorage-rs on MySQL',
    'syncstorage-rs-postgres': 'syncstorage-rs on PostgreSQL',
  }[schema.kind];
  const shards = schema.bsoTables.length > 1 ? `, ${schema.bsoTables.length} bso shards` : '';
  return `${label}${shards}`;
}

async function markUser(target: SqlDriver, userId: number, state: string, label: string) {
  const { dialect } = target;
  await inWriteTransaction(target, 60_000, (executor) =>
    executor.run(
      `INSERT INTO ${PROGRESS_TABLE} (userid, state, source) VALUES (?, ?, ?)
       ${dialect.upsert('userid', `state = ${dialect.inserted('state')}, source = ${dialect.inserted('source')}`)}`,
      [userId, state, label.slice(0, 255)],
    ),
  );
}

async function collectionNames(
  executor: SqlExecutor,
  schema: SourceSchema,
): Promise<Map<number, string>> {
  const rows = await executor.rows(`SELECT ${schema.collectionIdColumn}, name FROM collections`);
  // server-syncstorage kept the standard names in code, not in the table.
  const names = new Map<number, string>([...STANDARD_COLLECTIONS].map(([name, id]) => [id, name]));
  // The old servers reserve ids with placeholder rows named ''.
  for (const [id, name] of rows) if (name) names.set(Number(id), String(name));
  return names;
}

async function sourceUsers(
  executor: SqlExecutor,
  schema: SourceSchema,
  only?: readonly number[],
): Promise<number[]> {
  const { user } = schema.columns;
  const rows = await executor.rows(
    only && only.length > 0
      ? `SELECT DISTINCT ${user} FROM user_collections WHERE ${user} IN (${placeholders(only.length)}) ORDER BY ${user}`
      : `SELECT DISTINCT ${user} FROM user_collections ORDER BY ${user}`,
    only && only.length > 0 ? [...only] : [],
  );
  return rows.map(([userId]) => Number(userId));
}

async function sourceTimestamps(
  source: SqlDriver,
  schema: SourceSchema,
  userId: number,
): Promise<Map<number, number>> {
  const { user, collection, lastModified } = schema.columns;
  const rows = await onReadConnection(source, (executor) =>
    executor.rows(
      `SELECT ${collection}, ${lastModified} FROM user_collections WHERE ${user} = ? ORDER BY ${collection}`,
      [userId],
    ),
  );
  return new Map(rows.map(([collection, ts]) => [Number(collection), Number(ts)]));
}

function sourceTable(schema: SourceSchema, userId: number): string {
  return schema.bsoTables[userId % schema.bsoTables.length]!;
}

function toExpiry(schema: SourceSchema, ttl: unknown): number {
  const value = Number(ttl);
  const seconds = schema.ttlUnit === 'ms' ? Math.floor(value / 1000) : value;
  return Math.min(seconds, MAX_TTL);
}

/** The next rows of a user after `after` in (collection, id) order: keyset paging, no OFFSET. */
async function readChunk(
  source: SqlDriver,
  schema: SourceSchema,
  userId: number,
  after: { collectionId: number; id: string },
  limit: number,
): Promise<SourceRow[]> {
  const { user, collection, id, modified, expiry } = schema.columns;
  const rows = await onReadConnection(source, (executor) =>
    executor.rows(
      `SELECT ${collection}, ${id}, sortindex, payload, ${modified}, ${expiry} FROM ${sourceTable(schema, userId)}
       WHERE ${user} = ? AND (${collection} > ? OR (${collection} = ? AND ${id} > ?))
       ORDER BY ${collection}, ${id} LIMIT ?`,
      [userId, after.collectionId, after.collectionId, after.id, limit],
    ),
  );
  return rows.map(([collection, id, sortindex, payload, modified, ttl]) => ({
    collectionId: Number(collection),
    id: String(id),
    sortindex: sortindex === null || sortindex === undefined ? null : Number(sortindex),
    payload: String(payload ?? ''),
    modified: Number(modified),
    expiry: toExpiry(schema, ttl),
  }));
}

async function writeRows(
  executor: SqlExecutor,
  target: SqlDriver,
  table: string,
  userId: number,
  rows: readonly SourceRow[],
  collectionIds: ReadonlyMap<number, number>,
): Promise<void> {
  const { dialect } = target;
  const fresh = dialect.inserted;
  const mapped = rows.filter((row) => collectionIds.has(row.collectionId));
  for (let start = 0; start < mapped.length; start += 100) {
    const chunk = mapped.slice(start, start + 100);
    const params: SqlValue[] = [];
    for (const row of chunk) {
      params.push(
        userId,
        collectionIds.get(row.collectionId)!,
        row.id,
        row.sortindex,
        row.modified,
        row.payload,
        Buffer.byteLength(row.payload, 'utf8'),
        row.expiry,
      );
    }
    await executor.run(
      `INSERT INTO ${table} (userid, collection, id, sortindex, modified, payload, payload_size, ttl)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
       ${dialect.upsert(
         'userid, collection, id',
         ['sortindex', 'modified', 'payload', 'payload_size', 'ttl']
           .map((column) => `${column} = ${fresh(column)}`)
           .join(', '),
       )}`,
      params,
    );
  }
}

/**
 * Per collection name: count, timestamp and a hash over every row's hash in
 * sorted order, so the two sides agree whatever order their collations
 * read ids in (the rows' own hashes keep memory at 32 bytes a row).
 */
async function digest(
  timestamps: ReadonlyMap<string, number>,
  rows: AsyncIterable<{ name: string; line: string }>,
): Promise<Map<string, CollectionDigest>> {
  const lines = new Map<string, string[]>();
  for await (const { name, line } of rows) {
    let list = lines.get(name);
    if (!list) lines.set(name, (list = []));
    list.push(createHash('sha256').update(line).digest('hex'));
  }
  const result = new Map<string, CollectionDigest>();
  for (const name of new Set([...timestamps.keys(), ...lines.keys()])) {
    const list = (lines.get(name) ?? []).sort();
    result.set(name, {
      count: list.length,
      lastModified: timestamps.get(name) ?? 0,
      sha256: createHash('sha256').update(list.join('')).digest('hex'),
    });
  }
  return result;
}

function rowLine(row: SourceRow): string {
  return `${row.id}\t${row.modified}\t${row.sortindex ?? ''}\t${row.expiry}\t${row.payload}\n`;
}

async function digestSource(
  source: SqlDriver,
  schema: SourceSchema,
  names: ReadonlyMap<number, string>,
  userId: number,
): Promise<Map<string, CollectionDigest>> {
  const timestamps = new Map<string, number>();
  for (const [id, ts] of await sourceTimestamps(source, schema, userId)) {
    const name = names.get(id);
    if (name !== undefined && ts > 0) timestamps.set(name, ts);
  }
  async function* lines() {
    let after = { collectionId: -1, id: '' };
    for (;;) {
      const rows = await readChunk(source, schema, userId, after, 1000);
      for (const row of rows) {
        const name = names.get(row.collectionId);
        if (name !== undefined) yield { name, line: rowLine(row) };
      }
      if (rows.length < 1000) return;
      const last = rows[rows.length - 1]!;
      after = { collectionId: last.collectionId, id: last.id };
    }
  }
  return digest(timestamps, lines());
}

async function digestTarget(
  target: SqlDriver,
  layout: ShardLayout,
  userId: number,
): Promise<Map<string, CollectionDigest>> {
  const schema: SourceSchema = {
    kind: 'syncstorage-ts',
    bsoTables: layout.all().map((t) => t.bso),
    collectionIdColumn: 'collectionid',
    columns: BSO_COLUMNS,
    ttlUnit: 'seconds',
    hasTokenserverTables: false,
  };
  const names = await onReadConnection(target, (executor) => collectionNames(executor, schema));
  // The target's shard is chosen by its own layout.
  const table = layout.forUser(userId).bso;
  return digestSource(target, { ...schema, bsoTables: [table] }, names, userId);
}

function sameDigests(
  a: ReadonlyMap<string, CollectionDigest>,
  b: ReadonlyMap<string, CollectionDigest>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [name, digestA] of a) {
    if (JSON.stringify(digestA) !== JSON.stringify(b.get(name))) return false;
  }
  return true;
}
