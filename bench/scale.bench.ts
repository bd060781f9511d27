/**
 * npm run bench:scale — how the cost of one user's requests grows with the
 * data of everyone else (issue 13). SQLite (a WAL file) and PostgreSQL are
 * filled to 10^5 and 10^6 BSO rows (SCALE_MAX=10000000 adds 10^7), spread
 * over users of ~1,000 rows each in Firefox-like collections, through the
 * storage's own batched writes (500 rows per setItems), with progress. At
 * each size, for one user, p50/p99 of:
 *
 * - info/collections (`getTimestamps`);
 * - `?newer=0&limit=100&sort=newest` on history (`getItems`, full BSOs);
 * - a 100-record POST (`setItems`).
 *
 * The peer is the same backend at the smallest size: the ratio of the
 * largest size's p50 to the smallest's is printed (target ≤ 1.5: indexes,
 * not scans). Also the database size per million rows, and the purge time
 * per million expired rows (10^5 expired rows purged with
 * `purgeExpiredItems`, scaled). Storage-level figures (no HTTP). Prints a
 * table and writes bench/results/scale.json.
 *
 *   npm run bench:scale
 *   SCALE_MAX=10000000 npm run bench:scale
 *   STORAGE_BACKENDS=sqlite npm run bench:scale
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openSqlStorage } from '../src/storage/sql/index.js';
import type { BsoInput, SyncStorage } from '../src/storage/sync-storage.js';
import { startPostgres } from '@syncstorage-ts/test-support';
import { backendEnabled } from '../test/storage/support/storage-backends.js';

const MAX = Number(process.env.SCALE_MAX ?? 1_000_000);
const SIZES = [100_000, 1_000_000, 10_000_000].filter((n) => n <= MAX);
const ROWS_PER_USER = 1_000;
/** A Firefox profile's shape, in rows per collection (sums to ROWS_PER_USER). */
const PROFILE: Array<[string, number]> = [
  ['bookmarks', 550],
  ['history', 350],
  ['forms', 60],
  ['passwords', 30],
  ['addons', 5],
  ['prefs', 1],
  ['clients', 3],
  ['meta', 1],
];
const BATCH = 500;
const SAMPLES = 200;
const PURGE_ROWS = 100_000;
const PAYLOAD = 'x'.repeat(300);

interface Figures {
  p50: number;
  p99: number;
}
interface Row {
  backend: string;
  rows: number;
  infoCollections: Figures;
  newerLimit100: Figures;
  post100: Figures;
  bytesPerMillionRows: number;
}

function percentiles(ms: number[]): Figures {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: Math.round(at(0.5) * 1000) / 1000, p99: Math.round(at(0.99) * 1000) / 1000 };
}

async function time(n: number, op: (i: number) => Promise<unknown>): Promise<Figures> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await op(i);
    ms.push(performance.now() - started);
  }
  return percentiles(ms);
}

function items(prefix: string, n: number, ttl?: number): BsoInput[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    payload: PAYLOAD,
    sortindex: i,
    ...(ttl === undefined ? {} : { ttl }),
  }));
}

/** Fill users `from`..`to` (exclusive) with one profile each. */
async function fill(storage: SyncStorage, fromUser: number, toUser: number, label: string) {
  const started = Date.now();
  let last = 0;
  for (let uid = fromUser; uid < toUser; uid++) {
    for (const [collection, count] of PROFILE) {
      for (let done = 0; done < count; done += BATCH) {
        await storage.setItems(
          uid + 1,
          collection,
          items(`${done}-`, Math.min(BATCH, count - done)),
        );
      }
    }
    if (Date.now() - last > 2000 || uid === toUser - 1) {
      last = Date.now();
      const rows = (uid + 1) * ROWS_PER_USER;
      const rate = Math.round(
        ((uid + 1 - fromUser) * ROWS_PER_USER) / ((Date.now() - started) / 1000),
      );
      process.stderr.write(
        `\r${label}: ${rows.toLocaleString('en')} rows (${rate.toLocaleString('en')}/s)   `,
      );
    }
  }
  process.stderr.write('\n');
}

async function measure(storage: SyncStorage, backend: string, rows: number, bytes: number) {
  // The measured user is one of the crowd: the last one filled.
  const uid = rows / ROWS_PER_USER;
  const infoCollections = await time(SAMPLES, () => storage.getTimestamps(uid));
  const newerLimit100 = await time(SAMPLES, () =>
    storage.getItems(uid, 'history', { newer: 0, limit: 100, sort: 'newest' }),
  );
  const post100 = await time(SAMPLES / 4, (i) =>
    storage.setItems(uid, 'forms', items(`post${i}-`, 100)),
  );
  return {
    backend,
    rows,
    infoCollections,
    newerLimit100,
    post100,
    bytesPerMillionRows: Math.round(bytes / (rows / 1_000_000)),
  } satisfies Row;
}

interface Backend {
  name: string;
  storage: SyncStorage;
  /** Bytes the database takes now. */
  size(): Promise<number>;
  close(): Promise<void>;
  clock: { offsetMs: number };
}

async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  const file = join(dir, 'scale.db');
  const clock = { offsetMs: 0 };
  const storage = await openSqlStorage({
    url: `sqlite:${file}`,
    sqlite: { synchronous: 'NORMAL' },
    clock: () => Date.now() + clock.offsetMs,
  });
  const bytes = (path: string) => (existsSync(path) ? statSync(path).size : 0);
  return {
    name: 'sqlite',
    storage,
    clock,
    size: async () => bytes(file) + bytes(`${file}-wal`),
    close: async () => {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresBackend(): Promise<Backend> {
  const server = await startPostgres();
  const clock = { offsetMs: 0 };
  const storage = await openSqlStorage({
    url: server.url,
    clock: () => Date.now() + clock.offsetMs,
  });
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  return {
    name: 'postgres',
    storage,
    clock,
    size: async () =>
      Number(
        (await client.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n'))
          .rows[0]!.n,
      ),
    close: async () => {
      await client.end();
      await storage.close();
      await server.stop();
    },
  };
}

const results: Row[] = [];
const purges: Array<{ backend: string; secondsPerMillionExpired: number }> = [];
for (const [name, open] of [
  ['sqlite', sqliteBackend],
  ['postgres', postgresBackend],
] as const) {
  if (!backendEnabled(name)) continue;
  const backend = await open();
  try {
    let users = 0;
    for (const size of SIZES) {
      const target = size / ROWS_PER_USER;
      await fill(backend.storage, users, target, `${name} fill`);
      users = target;
      const row = await measure(backend.storage, name, size, await backend.size());
      results.push(row);
      process.stderr.write(`${name} ${size}: ${JSON.stringify(row)}\n`);
    }
    // Expired rows: written with a 1 s TTL, then the clock moves past them.
    const expiredUsers = PURGE_ROWS / ROWS_PER_USER;
    for (let u = 0; u < expiredUsers; u++) {
      for (let done = 0; done < ROWS_PER_USER; done += BATCH) {
        await backend.storage.setItems(5_000_000 + u, 'history', items(`e${done}-`, BATCH, 1));
      }
    }
    backend.clock.offsetMs = 10_000;
    const started = performance.now();
    const purged = await backend.storage.purgeExpiredItems();
    const secondsTaken = (performance.now() - started) / 1000;
    process.stderr.write(
      `${name} purge: ${JSON.stringify(purged)} in ${secondsTaken.toFixed(2)} s\n`,
    );
    purges.push({
      backend: name,
      secondsPerMillionExpired: Math.round(((secondsTaken * 1_000_000) / PURGE_ROWS) * 100) / 100,
    });
  } finally {
    await backend.close();
  }
}

const fmt = (f: Figures) => `${f.p50} / ${f.p99}`;
const lines = [
  '| backend | rows | info/collections p50/p99 ms | newer+limit=100 p50/p99 ms | POST 100 p50/p99 ms | MB per 10^6 rows |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.backend} | ${r.rows.toLocaleString('en')} | ${fmt(r.infoCollections)} | ${fmt(r.newerLimit100)} | ${fmt(r.post100)} | ${(r.bytesPerMillionRows / 1e6).toFixed(0)} |`,
  ),
];
const ratios = [...new Set(results.map((r) => r.backend))].map((backend) => {
  const rows = results.filter((r) => r.backend === backend);
  const [small, large] = [rows[0]!, rows[rows.length - 1]!];
  const ratio = (pick: (r: Row) => Figures) =>
    Math.round((pick(large).p50 / pick(small).p50) * 100) / 100;
  return {
    backend,
    from: small.rows,
    to: large.rows,
    infoCollections: ratio((r) => r.infoCollections),
    newerLimit100: ratio((r) => r.newerLimit100),
    post100: ratio((r) => r.post100),
  };
});
for (const r of ratios) {
  lines.push(
    `${r.backend}: p50 at ${r.to.toLocaleString('en')} rows ÷ at ${r.from.toLocaleString('en')}: info/collections ${r.infoCollections}×, newer+limit ${r.newerLimit100}×, POST 100 ${r.post100}× (target ≤ 1.5×)`,
  );
}
for (const p of purges) {
  lines.push(`${p.backend}: purge ${p.secondsPerMillionExpired} s per 10^6 expired rows`);
}
process.stdout.write(`${lines.join('\n')}\n`);
const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'scale.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), sizes: SIZES, results, ratios, purges }, null, 2)}\n`,
);
