/**
 * npm run bench:cache — the overhead of the cache toolkit over the raw
 * MemcachedClient, in one run against one local memcached this script
 * starts. Each scenario runs in short slices alternating with the raw
 * client's get (so load from other processes hits both alike), at
 * concurrency 1 (latency-bound) and 32 (CPU-bound); the figures are ops/s
 * and the cost ratio to the raw get measured in the same slices (raw get
 * ops/s ÷ scenario ops/s; 1.0 = free). Target: a namespaced get
 * costs at most 1.3× a raw get. Prints a table, writes
 * bench/results/cache.json. See bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cache } from '@syncstorage-ts/cache';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import { startMemcached } from '@syncstorage-ts/test-support';

const SLICES = Number(process.env.BENCH_SLICES ?? 20);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 50);
const CONCURRENCIES = [1, 32];
const VALUE = { id: 42, name: 'a cached record', tags: ['x', 'y', 'z'], body: 'v'.repeat(60) };
const TARGET = 1.3;

type Op = () => Promise<unknown>;

/** Calls of `op` completed by `concurrency` loops in `ms`. */
async function slice(
  op: Op,
  concurrency: number,
  ms: number,
): Promise<{ calls: number; ms: number }> {
  const start = performance.now();
  const deadline = start + ms;
  let calls = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op();
        calls++;
      }
    }),
  );
  return { calls, ms: performance.now() - start };
}

/**
 * The scenario and the raw get in alternating short slices, so that load from
 * other processes on the machine hits both alike; ops/s of each and the ratio.
 */
async function paired(
  baseline: Op,
  op: Op,
  concurrency: number,
): Promise<{ baseline: number; scenario: number }> {
  for (let i = 0; i < 200; i++) await Promise.all([baseline(), op()]);
  const totals = { baseline: { calls: 0, ms: 0 }, scenario: { calls: 0, ms: 0 } };
  for (let i = 0; i < SLICES; i++) {
    for (const [name, fn] of [
      ['baseline', baseline],
      ['scenario', op],
    ] as const) {
      const result = await slice(fn, concurrency, SLICE_MS);
      totals[name].calls += result.calls;
      totals[name].ms += result.ms;
    }
  }
  return {
    baseline: (totals.baseline.calls * 1000) / totals.baseline.ms,
    scenario: (totals.scenario.calls * 1000) / totals.scenario.ms,
  };
}

async function main(): Promise<void> {
  const mc = await startMemcached();
  const client = new MemcachedClient({ servers: [mc.address] });
  try {
    const cache = new Cache({ store: client, namespace: 'app' });
    const consistent = new Cache({ store: client, generationCacheMs: 0 });
    // 100 keys per scenario, rotated: the 32 loops of a scenario read different
    // keys, so getOrSet's in-process single-flight cannot coalesce them.
    const KEYS = Array.from({ length: 100 }, (_, i) => `key:${i}`);
    for (const key of KEYS) {
      await client.set(`raw:${key}`, VALUE);
      await cache.set(key, VALUE);
      await cache.set(key, VALUE, { namespace: 'users' });
      await consistent.set(key, VALUE, { namespace: 'users' });
      await cache.set(key, VALUE, { group: 'profiles' });
      await cache.getOrSet(`loaded:${key}`, () => VALUE);
    }
    let n = 0;
    const next = (): string => KEYS[n++ % KEYS.length] as string;

    const scenarios: Array<[string, Op]> = [
      ['raw client get (baseline)', () => client.get(`raw:${next()}`)],
      ['raw client set', () => client.set(`raw:${next()}`, VALUE)],
      ['cache get hit (default namespace)', () => cache.get(next())],
      ['namespaced get', () => cache.get(next(), { namespace: 'users' })],
      ['grouped get', () => cache.get(next(), { group: 'profiles' })],
      ['getOrSet hit', () => cache.getOrSet(`loaded:${next()}`, () => VALUE)],
      // The store call under getOrSet (meta mg with N/R/t/c), to tell its cost from ours.
      [
        'raw client lease hit',
        () => client.lease(`raw:${next()}`, { vivifyTtl: 30, recacheThreshold: 30 }),
      ],
      [
        'set with 3 dependencies',
        () => {
          const i = n++;
          // 1,000 keys over 3 × 100 dependency lists: some CAS contention, lists of ~10 entries.
          const dependencies = [`t:${i % 100}`, `u:${(i * 7) % 100}`, `v:${(i * 13) % 100}`];
          return cache.set(`dep:${i % 1000}`, VALUE, { dependencies });
        },
      ],
      ['namespaced get, generationCacheMs 0', () => consistent.get(next(), { namespace: 'users' })],
    ];

    const rawGet: Op = () => client.get(`raw:${next()}`);
    const results: Array<{
      scenario: string;
      concurrency: number;
      opsPerSec: number;
      rawGetOpsPerSec: number;
      costVsRawGet: number;
    }> = [];
    for (const concurrency of CONCURRENCIES) {
      for (const [name, op] of scenarios) {
        const measured = await paired(rawGet, op, concurrency);
        results.push({
          scenario: name,
          concurrency,
          opsPerSec: Math.round(measured.scenario),
          rawGetOpsPerSec: Math.round(measured.baseline),
          costVsRawGet: Number((measured.baseline / measured.scenario).toFixed(2)),
        });
      }
    }

    console.log(
      `cache toolkit vs raw MemcachedClient — memcached ${Object.values(await client.version())[0]}, ` +
        `node ${process.version}, ${SLICES} × ${SLICE_MS} ms slices alternating with raw get`,
    );
    console.table(
      results.map((r) => ({
        scenario: r.scenario,
        concurrency: r.concurrency,
        'ops/s': r.opsPerSec,
        'raw get ops/s (same slices)': r.rawGetOpsPerSec,
        'cost × raw get': r.costVsRawGet,
      })),
    );
    const namespaced = results.filter((r) => r.scenario === 'namespaced get');
    const met = namespaced.every((r) => r.costVsRawGet <= TARGET);
    console.log(
      `target: namespaced get ≤ ${TARGET}× raw get — ${met ? 'met' : 'NOT met'} ` +
        `(${namespaced.map((r) => `c=${r.concurrency}: ${r.costVsRawGet}×`).join(', ')})`,
    );

    const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'cache.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify(
        {
          benchmark: 'cache',
          date: new Date().toISOString(),
          node: process.version,
          memcached: Object.values(await client.version())[0],
          method: `${SLICES} slices of ${SLICE_MS} ms per scenario, alternating with the raw get`,
          target: { scenario: 'namespaced get', maxCostVsRawGet: TARGET, met },
          results,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`wrote ${out}`);
  } finally {
    await client.close();
    await mc.stop();
  }
}

await main();
