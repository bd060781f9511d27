/**
 * The memcached layer (`src/storage/cached/`) against the database alone, in
 * one run, on SQLite (a WAL file) and PostgreSQL (a real server started as
 * the tests do), each with a real memcached and with the in-process store:
 *
 * - info/collections (`getCollectionTimestamps`) of a user with 5 collections;
 * - a read of a cached 50-item collection (`getItems(user, 'clients')`), and
 *   the same as the HTTP GET route does it (read lock, timestamp, items);
 * - best of 3 interleaved rounds of 2,000 calls each, over 50 users;
 * - SQL statements per cache hit, counted by a wrapper around the SQL
 *   driver's executors (target: 0).
 *
 *   npm run bench:cached            STORAGE_BACKENDS=sqlite npm run bench:cached
 *
 * Prints a table and writes bench/results/cached.json; see bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CacheStore } from '@syncstorage-ts/memcache';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import { MemoryStore } from '@syncstorage-ts/memcache';
import { createCachedStorage, PRODUCTION_DEFAULTS } from '../src/storage/cached/index.js';
import { SqliteDriver, SqlStorage, type SqlDriver } from '../src/storage/sql/index.js';
import type { SqlExecutor, SqlLease } from '../src/sql/sql-types.js';
import type { SyncStorage } from '../src/storage/sync-storage.js';
import { startMemcached } from '@syncstorage-ts/test-support';
import { startPostgres } from '@syncstorage-ts/test-support';
import type { DatabaseClaim, DatabaseClaimMode } from '../src/sql/database-claim.js';
import { backendEnabled } from '../test/storage/support/storage-backends.js';

const USERS = 50;
const ITEMS = 50;
const OPS = 2000;

/** Counts every statement sent through the driver's connections. */
class CountingDriver implements SqlDriver {
  statements = 0;
  constructor(private readonly inner: SqlDriver) {}
  get dialect() {
    return this.inner.dialect;
  }
  private wrap(lease: SqlLease): SqlLease {
    const executor: SqlExecutor = {
      all: (sql, params) => (this.statements++, lease.executor.all(sql, params)),
      get: (sql, params) => (this.statements++, lease.executor.get(sql, params)),
      rows: (sql, params) => (this.statements++, lease.executor.rows(sql, params)),
      run: (sql, params) => (this.statements++, lease.executor.run(sql, params)),
    };
    return { executor, release: (discard) => lease.release(discard) };
  }
  async acquireRead(): Promise<SqlLease> {
    return this.wrap(await this.inner.acquireRead());
  }
  async acquireWrite(timeoutMs: number): Promise<SqlLease> {
    return this.wrap(await this.inner.acquireWrite(timeoutMs));
  }
  claim(mode: DatabaseClaimMode): Promise<DatabaseClaim> {
    return this.inner.claim(mode);
  }
  translateError(error: unknown): unknown {
    return this.inner.translateError(error);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Row {
  backend: string;
  cache: string;
  scenario: string;
  dbOpsPerSec: number;
  cachedOpsPerSec: number;
  speedup: number;
  sqlPerCachedOp: number;
  sqlPerDbOp: number;
}

async function measure(op: (user: number) => Promise<unknown>, driver: CountingDriver) {
  for (let i = 0; i < 200; i++) await op(1 + (i % USERS)); // warm-up
  const before = driver.statements;
  const started = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) await op(1 + (i % USERS));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { opsPerSec: Math.round(OPS / seconds), sqlPerOp: (driver.statements - before) / OPS };
}

async function seed(storage: SyncStorage): Promise<void> {
  for (let user = 1; user <= USERS; user++) {
    await storage.setItems(user, 'meta', [{ id: 'global', payload: 'm'.repeat(200) }]);
    await storage.setItems(
      user,
      'clients',
      Array.from({ length: ITEMS }, (_, i) => ({ id: `client${i}`, payload: 'c'.repeat(300) })),
    );
    await storage.setItems(user, 'bookmarks', [{ id: 'b', payload: 'b' }]);
    await storage.setItems(user, 'history', [{ id: 'h', payload: 'h' }]);
    await storage.setItems(user, 'tabs', [{ id: 't', payload: 't' }]);
  }
}

async function runBackend(
  backend: string,
  makeDriver: () => SqlDriver,
  caches: Array<[string, () => CacheStore]>,
): Promise<Row[]> {
  const rows: Row[] = [];
  const driver = new CountingDriver(makeDriver());
  const sql = new SqlStorage({ driver });
  await sql.migrate();
  for (const [cacheName, makeCache] of caches) {
    const cache = makeCache();
    const cached = createCachedStorage({
      storage: sql,
      cache,
      ...PRODUCTION_DEFAULTS,
      keyPrefix: `bench${Date.now()}:`,
    });
    await seed(cached);
    const scenarios: Array<[string, (s: SyncStorage, u: number) => Promise<unknown>]> = [
      ['info/collections', (s, u) => s.getCollectionTimestamps(u)],
      [`read ${ITEMS}-item clients`, (s, u) => s.getItems(u, 'clients')],
      // What the HTTP GET route does: a read lock, the timestamp, the items.
      [
        `GET ${ITEMS}-item clients`,
        (s, u) =>
          s.withReadLock(u, 'clients', async (tx) => [
            await tx.getCollectionTimestamp(u, 'clients'),
            await tx.getItems(u, 'clients'),
          ]),
      ],
    ];
    for (const [scenario, op] of scenarios) {
      // The database alone (the same call on the SQL storage) and the cached
      // layer, interleaved, best of 3 rounds each (the first round also warms the JIT).
      let db = { opsPerSec: 0, sqlPerOp: 0 };
      let hit = { opsPerSec: 0, sqlPerOp: 0 };
      for (let round = 0; round < 3; round++) {
        const d = await measure((u) => op(sql, u), driver);
        const h = await measure((u) => op(cached, u), driver);
        if (d.opsPerSec > db.opsPerSec) db = d;
        if (h.opsPerSec > hit.opsPerSec) hit = h;
      }
      rows.push({
        backend,
        cache: cacheName,
        scenario,
        dbOpsPerSec: db.opsPerSec,
        cachedOpsPerSec: hit.opsPerSec,
        speedup: Math.round((hit.opsPerSec / db.opsPerSec) * 100) / 100,
        sqlPerCachedOp: hit.sqlPerOp,
        sqlPerDbOp: db.sqlPerOp,
      });
    }
    await cache.close();
  }
  await sql.close();
  return rows;
}

async function main(): Promise<void> {
  const mc = await startMemcached();
  const caches: Array<[string, () => CacheStore]> = [
    ['memcached', () => new MemcachedClient({ servers: [mc.address] })],
    ['MemoryStore', () => new MemoryStore()],
  ];
  const rows: Row[] = [];
  try {
    if (backendEnabled('sqlite')) {
      const dir = mkdtempSync(join(tmpdir(), 'cached-bench-'));
      try {
        rows.push(
          ...(await runBackend(
            'sqlite (WAL file)',
            () => new SqliteDriver({ path: join(dir, 'bench.db') }),
            caches,
          )),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (backendEnabled('postgres')) {
      const server = await startPostgres();
      try {
        const url = await server.createDatabase('cached_bench');
        const { PostgresDriver } = await import('../src/sql/postgres-driver.js');
        rows.push(...(await runBackend('postgres', () => new PostgresDriver({ url }), caches)));
      } finally {
        await server.stop();
      }
    }
  } finally {
    await mc.stop();
  }
  console.table(rows);
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'cached.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      { date: new Date().toISOString(), users: USERS, items: ITEMS, opsPerMeasurement: OPS, rows },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${out}`);
}

await main();
