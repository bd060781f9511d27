/** Key tracking (seed 003 "Getting existing keys"). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyTrackingDisabledError } from '../src/index.js';
import { sleep, type ToolkitContext } from './toolkit-context.js';

const sorted = (keys: unknown[]): unknown[] => [...keys].sort((a, b) => Number(a) - Number(b));

export function registerTrackingTests(ctx: ToolkitContext): void {
  describe('key tracking', () => {
    test('keys() needs trackKeys', async () => {
      await assert.rejects(ctx.cache({ namespace: '1' }).keys(), KeyTrackingDisabledError);
    });

    test('keys() lists live keys set by any client, honouring expiry, namespaces and invalidation', async () => {
      const util3 = ctx.cache({ trackKeys: true });
      await util3.set(1, 1);
      assert.deepEqual(sorted(await util3.keys()), [1]);
      await util3.set(2, 2);
      assert.deepEqual(sorted(await util3.keys()), [1, 2]);

      // Another client (another connection where the store has one) with its own cache object.
      const other = ctx.isolatedCache({ trackKeys: true }, ctx.fixture.peer ?? ctx.store);
      await other.set(3, 3);
      assert.deepEqual(sorted(await util3.keys()), [1, 2, 3]);
      assert.deepEqual(sorted(await other.keys()), [1, 2, 3]);

      await util3.set(4, 4, { lifetime: 1 });
      assert.deepEqual(sorted(await util3.keys()), [1, 2, 3, 4]);
      await sleep(2200);
      assert.deepEqual(sorted(await util3.keys()), [1, 2, 3]);
      assert.equal(await util3.get(4), undefined);

      await util3.set(5, 5, { namespace: '3' });
      assert.deepEqual(sorted(await util3.keys()), [1, 2, 3]);
      assert.deepEqual(await util3.keys('3'), [5]);

      await util3.invalidate(1);
      assert.deepEqual(sorted(await util3.keys()), [2, 3]);
    });

    test('keys come back as they were given: objects, strings, raw keys, grouped keys', async () => {
      const cache = ctx.cache({ trackKeys: true, namespace: 'shapes' });
      await cache.set({ user: 1, page: 'a' }, 'x');
      await cache.set('1', 'y', { group: 'g' });
      await cache.set('raw-key', 'z', { raw: true });
      const keys = await cache.keys();
      assert.equal(keys.length, 3);
      assert.ok(keys.some((k) => typeof k === 'object' && (k as { user?: number }).user === 1));
      assert.ok(keys.includes('1'));
      assert.ok(keys.includes('raw-key'));
      await cache.invalidateGroup('g');
      assert.equal((await cache.keys()).length, 2);
      await cache.invalidateAll({ namespace: 'shapes' });
      assert.deepEqual(await cache.keys(), ['raw-key'], 'raw keys are outside generations');
    });

    test('tracking is bounded by maxTrackedKeys, dropping the soonest to expire', async () => {
      const cache = ctx.cache({ trackKeys: true, maxTrackedKeys: 5, namespace: 'bounded' });
      for (let i = 0; i < 8; i++) await cache.set(i, i, { lifetime: 100 + i });
      assert.deepEqual(sorted(await cache.keys()), [3, 4, 5, 6, 7]);
      assert.equal(await cache.get(0), 0, 'an untracked entry stays cached');
    });

    test('seed bug: invalidation by dependency removes the keys from the tracked keys', async () => {
      const cache = ctx.cache({ trackKeys: true, namespace: 'deps' });
      await cache.set('a', 1, { dependencies: ['d'] });
      await cache.set('b', 2, { dependencies: ['d'] });
      await cache.set('c', 3);
      assert.deepEqual((await cache.keys()).sort(), ['a', 'b', 'c']);
      // A cache that does not track keys itself still cleans the tracked record.
      const plain = ctx.cache({ namespace: 'deps' });
      await plain.invalidateDependencies(['d']);
      assert.deepEqual(await cache.keys(), ['c']);
      // The record itself forgot them: an entry written again without tracking stays unlisted.
      await plain.set('a', 'untracked');
      assert.deepEqual(await cache.keys(), ['c']);
    });
  });
}
