/**
 * Cross-process stampede protection against a real memcached: 200 concurrent
 * getOrSet calls spread over 4 processes run the loader exactly once; with a
 * stale entry, the processes that did not win are served the stale value.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Cache } from '../src/index.js';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';

const WORKER = fileURLToPath(new URL('./stampede-worker.ts', import.meta.url));
const PROCESSES = 4;
const CALLS_PER_PROCESS = 50;

interface Report {
  pid: number;
  loaderCalls: number;
  values: Record<string, number>;
}

/** Starts the workers, waits until all are ready, then releases them at once. */
async function runWorkers(address: string, version: string, key: string): Promise<Report[]> {
  const children: ChildProcess[] = [];
  const reports: Array<Promise<Report>> = [];
  const ready: Array<Promise<void>> = [];
  for (let i = 0; i < PROCESSES; i++) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WORKER, address, version, key, String(CALLS_PER_PROCESS), '500'],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(child);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const iterator = lines[Symbol.asyncIterator]();
    ready.push(
      iterator.next().then(({ value }) => assert.equal(value, 'ready', `worker ${i} started`)),
    );
    reports.push(
      ready[i]!.then(async () => JSON.parse((await iterator.next()).value as string) as Report),
    );
  }
  try {
    await Promise.all(ready);
    for (const child of children) child.stdin?.write('go\n');
    return await Promise.all(reports);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

describe('stampede protection across processes (real memcached)', () => {
  let mc: MemcachedServer;
  let store: MemcachedClient;
  before(async () => {
    mc = await startMemcached();
    store = new MemcachedClient({ servers: [mc.address] });
  });
  after(async () => {
    await store.close();
    await mc.stop();
  });

  test('200 concurrent getOrSet calls over 4 processes for a missing key run the loader once', async () => {
    await store.flush();
    const reports = await runWorkers(mc.address, 'miss', 'hot-key');
    const total = reports.reduce((sum, r) => sum + r.loaderCalls, 0);
    assert.equal(total, 1, JSON.stringify(reports));
    assert.equal(Number(await store.get('stampede-loader-calls')), 1);
    const values = reports.flatMap((r) => Object.entries(r.values));
    assert.equal(new Set(values.map(([value]) => value)).size, 1, 'everyone got the one value');
    assert.equal(
      values.reduce((sum, [, n]) => sum + n, 0),
      PROCESSES * CALLS_PER_PROCESS,
    );
  });

  test('with a stale entry, one process recomputes while the others are served stale', async () => {
    await store.flush();
    const seeder = new Cache({ store, version: 'stale' });
    await seeder.getOrSet('hot-key', () => 'old');
    await seeder.invalidate('hot-key', { stale: true });
    const reports = await runWorkers(mc.address, 'stale', 'hot-key');
    const total = reports.reduce((sum, r) => sum + r.loaderCalls, 0);
    assert.equal(total, 1, JSON.stringify(reports));
    const winner = reports.find((r) => r.loaderCalls === 1) as Report;
    // In the winner's process too only the recomputing call waits; the calls that joined it get the stale value.
    assert.deepEqual(winner.values, { [`fresh-${winner.pid}`]: 1, old: CALLS_PER_PROCESS - 1 });
    for (const report of reports.filter((r) => r !== winner)) {
      assert.deepEqual(report.values, { old: CALLS_PER_PROCESS }, `process ${report.pid}`);
    }
    assert.equal(await seeder.get('hot-key'), `fresh-${winner.pid}`);
  });
});
