/** getOrSet: single-flight, leases, stale serving, dead winners, XFetch (seed 002 MintCache). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, type ToolkitContext } from './toolkit-context.js';

function countingLoader<T>(
  value: T,
  delayMs = 0,
): { calls: () => number; loader: () => Promise<T> } {
  let calls = 0;
  return {
    calls: () => calls,
    loader: async () => {
      calls++;
      if (delayMs > 0) await sleep(delayMs);
      return value;
    },
  };
}

export function registerStampedeTests(ctx: ToolkitContext): void {
  describe('getOrSet', () => {
    test('200 concurrent callers for a missing key run the loader once', async () => {
      const cache = ctx.cache();
      const { calls, loader } = countingLoader({ n: 1 }, 30);
      const results = await Promise.all(
        Array.from({ length: 200 }, () => cache.getOrSet('hot', loader)),
      );
      assert.equal(calls(), 1);
      for (const result of results) assert.deepEqual(result, { n: 1 });
      assert.deepEqual(await cache.getOrSet('hot', loader), { n: 1 });
      assert.equal(calls(), 1, 'the next call is a hit');
      assert.deepEqual(await cache.get('hot'), { n: 1 });
      const { counters } = await cache.stats();
      assert.equal(counters.loaderCalls, 1);
      assert.equal(counters.hits, 2);
    });

    test('caches with separate single-flight state still run the loader once (store lease)', async () => {
      const caches = Array.from({ length: 4 }, () => ctx.isolatedCache());
      const { calls, loader } = countingLoader('v', 100);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (caches[i % 4] ?? caches[0])!.getOrSet('k', loader)),
      );
      assert.equal(calls(), 1);
      assert.deepEqual(new Set(results), new Set(['v']));
    });

    test('a stored null is a hit, and a loader returning undefined caches nothing', async () => {
      const cache = ctx.cache();
      const nulls = countingLoader(null);
      assert.equal(await cache.getOrSet('n', nulls.loader), null);
      assert.equal(await cache.getOrSet('n', nulls.loader), null);
      assert.equal(nulls.calls(), 1);
      const nothing = countingLoader(undefined);
      assert.equal(await cache.getOrSet('u', nothing.loader), undefined);
      assert.equal(await cache.getOrSet('u', nothing.loader), undefined);
      assert.equal(nothing.calls(), 2);
    });

    test('a loader returning undefined frees its lease: the next caller does not wait the grace window', async () => {
      const cache = ctx.cache({ grace: 3 });
      assert.equal(await cache.getOrSet('u', () => undefined), undefined);
      const started = Date.now();
      assert.equal(await ctx.isolatedCache({ grace: 3 }).getOrSet('u', () => 'v'), 'v');
      assert.ok(Date.now() - started < 1000, `waited ${Date.now() - started} ms`);
    });

    test('a loader that throws with nothing stale rethrows, caches nothing, frees the key', async () => {
      const cache = ctx.cache();
      const boom = new Error('backend down');
      await assert.rejects(
        cache.getOrSet('k', () => Promise.reject(boom)),
        (err) => err === boom,
      );
      // The placeholder was released: the next caller does not wait the grace window.
      const started = Date.now();
      assert.equal(await cache.getOrSet('k', () => 'ok'), 'ok');
      assert.ok(Date.now() - started < 1000);
      assert.equal((await cache.stats()).counters.errors, 1);
    });

    test('an entry invalidated into stale is served stale while one caller recomputes', async () => {
      const writer = ctx.cache();
      await writer.getOrSet('k', () => 'old');
      await writer.invalidate('k', { stale: true });
      const recomputer = ctx.isolatedCache();
      const reader = ctx.isolatedCache();
      const slow = countingLoader('new', 300);
      const fresh = recomputer.getOrSet('k', slow.loader);
      await sleep(50);
      assert.equal(await reader.getOrSet('k', slow.loader), 'old');
      assert.equal(await fresh, 'new');
      assert.equal(slow.calls(), 1);
      assert.equal(await reader.getOrSet('k', slow.loader), 'new');
      assert.equal((await reader.stats()).counters.staleServed, 1);
    });

    test('in one process, a second caller gets the stale value at once while the first recomputes', async () => {
      const cache = ctx.cache();
      await cache.getOrSet('k', () => 'old');
      await cache.invalidate('k', { stale: true });
      const slow = countingLoader('new', 1500);
      const fresh = cache.getOrSet('k', slow.loader);
      await sleep(50);
      const started = Date.now();
      assert.equal(await cache.getOrSet('k', slow.loader), 'old');
      assert.ok(Date.now() - started < 500, `the second caller waited ${Date.now() - started} ms`);
      assert.equal(await fresh, 'new');
      assert.equal(slow.calls(), 1);
      assert.equal(await cache.getOrSet('k', slow.loader), 'new');
    });

    test('an entry past its lifetime is served stale while the first caller recomputes', async () => {
      const cache = ctx.cache();
      await cache.getOrSet('k', () => 'v1', { lifetime: 1 });
      await sleep(2200);
      const other = ctx.isolatedCache();
      const slow = countingLoader('v2', 1000);
      const fresh = cache.getOrSet('k', slow.loader, { lifetime: 1 });
      await sleep(50);
      assert.equal(await other.getOrSet('k', slow.loader, { lifetime: 1 }), 'v1');
      // The same Cache (same process) does not queue behind its own recompute either.
      const started = Date.now();
      assert.equal(await cache.getOrSet('k', slow.loader, { lifetime: 1 }), 'v1');
      assert.ok(
        Date.now() - started < 200,
        `the same-process caller waited ${Date.now() - started} ms`,
      );
      assert.equal(await fresh, 'v2');
      assert.equal(slow.calls(), 1);
    });

    test('a loader that throws while a stale value exists serves the stale value', async () => {
      const cache = ctx.cache();
      await cache.getOrSet('k', () => 'old');
      await cache.invalidate('k', { stale: true });
      assert.equal(await cache.getOrSet('k', () => Promise.reject(new Error('no'))), 'old');
      const { counters } = await cache.stats();
      assert.equal(counters.staleServed, 1);
      assert.equal(counters.errors, 1);
    });

    test('seed bug: the recomputed value of a stale grouped entry is written under the key reads use', async () => {
      const cache = ctx.cache();
      await cache.getOrSet('k', () => 'old', { group: 'g' });
      await cache.invalidate('k', { group: 'g', stale: true });
      assert.equal(await cache.getOrSet('k', () => 'new', { group: 'g' }), 'new');
      assert.equal(await cache.get('k', { group: 'g' }), 'new');
      assert.equal(await ctx.isolatedCache().get('k', { group: 'g' }), 'new');
    });

    test('a loaded value the store refuses to hold is still returned, uncached', async () => {
      const cache = ctx.cache();
      const huge = 'x'.repeat(2 * 1024 * 1024);
      assert.equal(await cache.getOrSet('big', () => huge), huge);
      assert.equal(await cache.get('big'), undefined);
      assert.equal(
        await cache.getOrSet('big', () => 'small'),
        'small',
        'the placeholder was freed',
      );
    });

    test('a winner that dies holds the others back no longer than the grace window', async () => {
      const cache = ctx.cache({ grace: 1 });
      const storeKey = (await cache.storeKey('orphan')) as string;
      // A winner takes the lease and never writes back.
      const lease = await ctx.store.lease(storeKey, { vivifyTtl: 1 });
      assert.equal(lease.win, true);
      const started = Date.now();
      assert.equal(await cache.getOrSet('orphan', () => 'mine'), 'mine');
      assert.ok(Date.now() - started <= 2500, `waited ${Date.now() - started} ms`);
    });

    test('getOrSet writes dependencies and tracking like set', async () => {
      const cache = ctx.cache({ trackKeys: true });
      await cache.getOrSet('k', () => 'v', { dependencies: ['d'] });
      assert.deepEqual(await cache.keys(), ['k']);
      await cache.invalidateDependencies(['d']);
      assert.equal(await cache.get('k'), undefined);
      assert.deepEqual(await cache.keys(), []);
    });

    test('XFetch recomputes early in the background when beta makes expiry look near', async () => {
      const cache = ctx.cache({ beta: 1e9, random: () => 0.5 });
      let version = 0;
      const loader = async (): Promise<number> => {
        await sleep(5);
        return ++version;
      };
      assert.equal(await cache.getOrSet('x', loader, { lifetime: 100 }), 1);
      assert.equal(
        await cache.getOrSet('x', loader, { lifetime: 100 }),
        1,
        'the current value is served',
      );
      await sleep(100);
      assert.equal(version, 2, 'one early recomputation ran');
      assert.equal(await cache.get('x'), 2);
      const never = ctx.cache({ beta: 0 });
      await never.getOrSet('y', loader, { lifetime: 100 });
      await never.getOrSet('y', loader, { lifetime: 100 });
      await sleep(50);
      assert.equal(version, 3, 'beta 0 never recomputes early');
    });
  });
}
