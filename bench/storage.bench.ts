/**
 * npm run bench:storage — the SQL SyncStorage on SQLite (a WAL file, the
 * default synchronous=FULL), on PostgreSQL and on MariaDB (real servers this
 * script starts), each beside the raw driver doing the same inserts in the same run
 * (the ceiling):
 *
 * - post: 10,000 BSOs in posts of 100 (one `setItems` each) vs the raw
 *   driver inserting the same rows, 100 per transaction;
 * - read: one full collection of 10,000 BSOs (`getItems`, no limit) vs a
 *   raw SELECT of the same rows;
 * - paging: a collection of 100,000 items read 1,000 at a time (newest
 *   first); the cost of page 100 over page 1.
 *
 * Prints a table and writes bench/results/storage.json; see bench/README.md.
 * `STORAGE_BACKENDS=sqlite` narrows the run (as the tests).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { openSqlStorage } from '../src/storage/sql/index.js';
import type { BsoInput, SyncStorage } from '../src/storage/sync-storage.js';
import { startMariadb, startPostgres } from '@syncstorage-ts/test-support';
import { backendEnabled } from '../test/storage/support/storage-backends.js';

const POST_ITEMS = 10_000;
const POST_SIZE = 100;
const PAGED_ITEMS = 100_000;
const PAGE_SIZE = 1_000;
const PAGE_REPEATS = 15;
const PAYLOAD_BYTES = 300;

interface BackendResult {
  backend: string;
  post: { storageItemsPerSecond: number; rawItemsPerSecond: number; ratio: number };
  readFull: { items: number; storageMs: number; rawMs: number };
  paging: { items: number; pageSize: number; page1Ms: number; page100Ms: number; ratio: number };
}

/** A client-like payload: base64 of random bytes (encrypted records look like this). */
function makeItems(count: number, prefix: string): BsoInput[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i.toString(36).padStart(8, '0')}`,
    payload: randomBytes((PAYLOAD_BYTES * 3) / 4).toString('base64'),
    sortindex: i % 1000,
  }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** The raw driver writing the same rows, 100 per transaction: the ceiling. */
interface RawDriver {
  insertPosts(rows: BsoInput[], userId: number, timestamp: number): Promise<void>;
  selectAll(userId: number): Promise<number>;
  close(): Promise<void>;
}

const RAW_TABLE = `CREATE TABLE raw_bso (
  userid BIGINT NOT NULL, collection INTEGER NOT NULL, id VARCHAR(64) NOT NULL,
  sortindex INTEGER, modified BIGINT NOT NULL, payload TEXT NOT NULL,
  payload_size INTEGER NOT NULL DEFAULT 0, ttl INTEGER NOT NULL DEFAULT 2100000000,
  PRIMARY KEY (userid, collection, id))`;
const RAW_INDEX = 'CREATE INDEX raw_bso_mod ON raw_bso (userid, collection, modified)';

function rawSqlite(path: string): RawDriver {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(RAW_TABLE);
  db.exec(RAW_INDEX);
  // The best the driver does: one prepared multi-row INSERT per post.
  const insert = db.prepare(
    'INSERT INTO raw_bso (userid, collection, id, sortindex, modified, payload, payload_size) VALUES ' +
      Array.from({ length: POST_SIZE }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', '),
  );
  const post = db.transaction((rows: BsoInput[], userId: number, ts: number) => {
    insert.run(
      rows.flatMap((r) => [
        userId,
        7,
        r.id,
        r.sortindex ?? null,
        ts,
        r.payload!,
        r.payload!.length,
      ]),
    );
  });
  const select = db.prepare(
    'SELECT id, modified, payload, sortindex, ttl FROM raw_bso WHERE userid = ? AND collection = 7 ORDER BY modified DESC, id DESC',
  );
  return {
    async insertPosts(rows, userId, ts) {
      for (let i = 0; i < rows.length; i += POST_SIZE) {
        post(rows.slice(i, i + POST_SIZE), userId, ts + i);
      }
    },
    async selectAll(userId) {
      return select.all(userId).length;
    },
    async close() {
      db.close();
    },
  };
}

async function rawPostgres(url: string): Promise<RawDriver> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(RAW_TABLE);
  await client.query(RAW_INDEX);
  return {
    async insertPosts(rows, userId, ts) {
      for (let i = 0; i < rows.length; i += POST_SIZE) {
        const chunk = rows.slice(i, i + POST_SIZE);
        const params: unknown[] = [];
        const values = chunk.map((r, j) => {
          params.push(userId, 7, r.id, r.sortindex ?? null, ts + i, r.payload, r.payload!.length);
          const b = j * 7;
          return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7})`;
        });
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO raw_bso (userid, collection, id, sortindex, modified, payload, payload_size) VALUES ${values.join(', ')}`,
          params,
        );
        await client.query('COMMIT');
      }
    },
    async selectAll(userId) {
      const result = await client.query(
        'SELECT id, modified, payload, sortindex, ttl FROM raw_bso WHERE userid = $1 AND collection = 7 ORDER BY modified DESC, id DESC',
        [userId],
      );
      return result.rows.length;
    },
    async close() {
      await client.end();
    },
  };
}

/** mysql2 with the same multi-row INSERT per post, in a transaction each. */
async function rawMysql(url: string): Promise<RawDriver> {
  const connection = await mysql.createConnection({ uri: url });
  await connection.query(`${RAW_TABLE} ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  await connection.query(RAW_INDEX);
  return {
    async insertPosts(rows, userId, ts) {
      for (let i = 0; i < rows.length; i += POST_SIZE) {
        const chunk = rows.slice(i, i + POST_SIZE);
        await connection.query('START TRANSACTION');
        await connection.query(
          'INSERT INTO raw_bso (userid, collection, id, sortindex, modified, payload, payload_size) VALUES ?',
          [
            chunk.map((r) => [
              userId,
              7,
              r.id,
              r.sortindex ?? null,
              ts + i,
              r.payload,
              r.payload!.length,
            ]),
          ],
        );
        await connection.query('COMMIT');
      }
    },
    async selectAll(userId) {
      const [rows] = await connection.query<mysql.RowDataPacket[]>(
        'SELECT id, modified, payload, sortindex, ttl FROM raw_bso WHERE userid = ? AND collection = 7 ORDER BY modified DESC, id DESC',
        [userId],
      );
      return rows.length;
    },
    async close() {
      await connection.end();
    },
  };
}

async function runBackend(
  backend: string,
  storage: SyncStorage,
  raw: RawDriver,
  afterBulkLoad: () => Promise<void> = async () => undefined,
): Promise<BackendResult> {
  const items = makeItems(POST_ITEMS, 'p');
  // Warm up both (connections, statement caches, JIT) on other users.
  await storage.setItems(9, 'bookmarks', makeItems(POST_SIZE, 'w'));
  await raw.insertPosts(makeItems(POST_SIZE, 'w'), 9, Date.now());

  // Post: alternate the two a few times so neither gets a warmer disk.
  const storageTimes: number[] = [];
  const rawTimes: number[] = [];
  for (let round = 0; round < 3; round++) {
    const user = 100 + round;
    storageTimes.push(
      await time(async () => {
        for (let i = 0; i < items.length; i += POST_SIZE) {
          await storage.setItems(user, 'bookmarks', items.slice(i, i + POST_SIZE));
        }
      }),
    );
    rawTimes.push(await time(() => raw.insertPosts(items, user, Date.now())));
  }
  const storageRate = POST_ITEMS / (Math.min(...storageTimes) / 1000);
  const rawRate = POST_ITEMS / (Math.min(...rawTimes) / 1000);

  // Read one full collection of 10,000.
  const readStorage: number[] = [];
  const readRaw: number[] = [];
  for (let i = 0; i < 5; i++) {
    readStorage.push(
      await time(async () => {
        const { items: got } = await storage.getItems(100, 'bookmarks', { sort: 'newest' });
        if (got.length !== POST_ITEMS) throw new Error(`read ${got.length} items`);
      }),
    );
    readRaw.push(await time(() => raw.selectAll(100)));
  }

  // Paging through 100,000 (loaded in posts of 1,000 to keep set-up short).
  const big = makeItems(PAGED_ITEMS, 'g');
  for (let i = 0; i < big.length; i += 1000) {
    await storage.setItems(200, 'history', big.slice(i, i + 1000));
  }
  await afterBulkLoad();
  const tokens: Array<string | undefined> = [undefined];
  let offset: string | undefined;
  for (let page = 0; page < PAGED_ITEMS / PAGE_SIZE; page++) {
    const result = await storage.getItems(200, 'history', { limit: PAGE_SIZE, offset });
    if (!result.nextOffset) break;
    offset = result.nextOffset;
    tokens.push(offset);
  }
  const lastToken = tokens[99];
  if (tokens.length < 100 || lastToken === undefined) {
    throw new Error(`only ${tokens.length} pages`);
  }
  const page1: number[] = [];
  const page100: number[] = [];
  for (let i = 0; i < PAGE_REPEATS; i++) {
    page1.push(await time(() => storage.getItems(200, 'history', { limit: PAGE_SIZE })));
    page100.push(
      await time(() => storage.getItems(200, 'history', { limit: PAGE_SIZE, offset: lastToken })),
    );
  }
  const p1 = median(page1);
  const p100 = median(page100);
  return {
    backend,
    post: {
      storageItemsPerSecond: Math.round(storageRate),
      rawItemsPerSecond: Math.round(rawRate),
      ratio: Number((storageRate / rawRate).toFixed(2)),
    },
    readFull: {
      items: POST_ITEMS,
      storageMs: Number(median(readStorage).toFixed(1)),
      rawMs: Number(median(readRaw).toFixed(1)),
    },
    paging: {
      items: PAGED_ITEMS,
      pageSize: PAGE_SIZE,
      page1Ms: Number(p1.toFixed(2)),
      page100Ms: Number(p100.toFixed(2)),
      ratio: Number((p100 / p1).toFixed(2)),
    },
  };
}

async function main(): Promise<void> {
  const results: BackendResult[] = [];
  if (backendEnabled('sqlite')) {
    const dir = mkdtempSync(join(tmpdir(), 'syncstorage-bench-'));
    try {
      const storage = await openSqlStorage({ url: `sqlite:${join(dir, 'storage.db')}` });
      const raw = rawSqlite(join(dir, 'raw.db'));
      try {
        results.push(await runBackend('sqlite (WAL, synchronous=FULL)', storage, raw));
      } finally {
        await storage.close();
        await raw.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (backendEnabled('postgres')) {
    const server = await startPostgres();
    try {
      const url = await server.createDatabase('bench_storage');
      const storage = await openSqlStorage({ url });
      const raw = await rawPostgres(await server.createDatabase('bench_raw'));
      // Fresh tables have no planner statistics until autovacuum's next
      // round (a minute); a just-loaded 100,000 rows get them at once here,
      // as autovacuum would give them in a running server.
      const analyze = async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query('ANALYZE');
        await client.end();
      };
      try {
        results.push(await runBackend('postgres (test server, fsync off)', storage, raw, analyze));
      } finally {
        await storage.close();
        await raw.close();
      }
    } finally {
      await server.stop();
    }
  }

  if (backendEnabled('mariadb')) {
    const server = await startMariadb();
    try {
      const storage = await openSqlStorage({ url: await server.createDatabase('bench_storage') });
      const raw = await rawMysql(await server.createDatabase('bench_raw'));
      try {
        results.push(
          await runBackend('mariadb (test server, redo log flushed each second)', storage, raw),
        );
      } finally {
        await storage.close();
        await raw.close();
      }
    } finally {
      await server.stop();
    }
  }

  console.log('\nSQL SyncStorage (bench/storage.bench.ts)\n');
  console.table(
    results.map((r) => ({
      backend: r.backend,
      'post items/s': r.post.storageItemsPerSecond,
      'raw items/s': r.post.rawItemsPerSecond,
      'post/raw': r.post.ratio,
      'read 10k ms': r.readFull.storageMs,
      'raw read ms': r.readFull.rawMs,
      'page 1 ms': r.paging.page1Ms,
      'page 100 ms': r.paging.page100Ms,
      'p100/p1': r.paging.ratio,
    })),
  );
  const targets = results.map((r) => ({
    backend: r.backend,
    postAtLeastHalfOfRaw: r.post.ratio >= 0.5,
    page100WithinOneAndAHalfOfPage1: r.paging.ratio <= 1.5,
  }));
  console.table(targets);

  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'storage.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        parameters: { POST_ITEMS, POST_SIZE, PAGED_ITEMS, PAGE_SIZE, PAYLOAD_BYTES, PAGE_REPEATS },
        results,
        targets,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
