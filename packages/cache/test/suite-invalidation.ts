/** Groups (seed 002) and dependencies (seed 003), with the seed bugs pinned. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerationCache } from '../src/index.js';
import { sleep, type ToolkitContext } from './toolkit-context.js';

export function registerInvalidationTests(ctx: ToolkitContext): void {
  describe('groups', () => {
    test('an entry set in a group is read with the group; invalidateGroup drops the group in O(1)', async () => {
      const cache = ctx.cache();
      await cache.set('k', 'in g', { group: 'g' });
      await cache.set('k2', 'in h', { group: 'h' });
      await cache.set('k3', 'in g and h', { groups: ['h', 'g'] });
      assert.equal(await cache.get('k'), undefined, 'another key without the group');
      assert.equal(await cache.get('k', { group: 'g' }), 'in g');
      assert.equal(await cache.get('k3', { groups: ['g', 'h'] }), 'in g and h');
      await cache.invalidateGroup('g');
      assert.equal(await cache.get('k', { group: 'g' }), undefined);
      assert.equal(await cache.get('k3', { groups: ['g', 'h'] }), undefined);
      assert.equal(await cache.get('k2', { group: 'h' }), 'in h');
      await cache.set('k', 'again', { group: 'g' });
      assert.equal(await cache.get('k', { group: 'g' }), 'again');
    });

    test('a group belongs to its namespace', async () => {
      const cache = ctx.cache();
      await cache.set('k', 'A', { group: 'g', namespace: 'A' });
      await cache.set('k', 'B', { group: 'g', namespace: 'B' });
      await cache.invalidateGroup('g', { namespace: 'A' });
      assert.equal(await cache.get('k', { group: 'g', namespace: 'A' }), undefined);
      assert.equal(await cache.get('k', { group: 'g', namespace: 'B' }), 'B');
    });

    test('invalidate(key, { group }) removes one grouped entry (seed 002 delete)', async () => {
      const cache = ctx.cache();
      await cache.set('k', 'v', { group: 'g' });
      await cache.set('other', 'w', { group: 'g' });
      assert.equal(await cache.invalidate('k', { group: 'g' }), true);
      assert.equal(await cache.get('k', { group: 'g' }), undefined);
      assert.equal(await cache.get('other', { group: 'g' }), 'w');
    });

    test('seed bug: a new group created by racing processes is one group, not several', async () => {
      // Each writer has its own generation counters, read from the store on every call.
      const writers = Array.from({ length: 20 }, () => ctx.isolatedCache());
      await Promise.all(writers.map((cache, i) => cache.set(`k${i}`, i, { group: 'fresh' })));
      const reader = ctx.isolatedCache();
      const values = await Promise.all(
        writers.map((_, i) => reader.get(`k${i}`, { group: 'fresh' })),
      );
      assert.deepEqual(
        values,
        writers.map((_, i) => i),
      );
    });

    test('seed bug: group counters never expire with the default lifetime', async () => {
      const cache = ctx.isolatedCache({ lifetime: 1 });
      await cache.set('k', 'kept', { group: 'g', lifetime: 0 });
      await sleep(2200);
      const later = ctx.isolatedCache({ lifetime: 1 });
      assert.equal(await later.get('k', { group: 'g' }), 'kept');
    });

    test('an evicted generation counter comes back with a new value, not the old one', async () => {
      const generations = new GenerationCache(ctx.store);
      const [first] = await generations.read(['gen-evicted'], 0);
      await ctx.store.delete('gen-evicted');
      const [second] = await generations.read(['gen-evicted'], 0);
      assert.notEqual(first, second);
    });
  });

  describe('dependencies', () => {
    test('entries name dependencies; the dependency record lists their store keys', async () => {
      const util5 = ctx.cache();
      const util = ctx.cache();
      await util5.set('key1', 'data1', { dependencies: ['something'] });
      await util5.set('key2', 'data2', { dependencies: ['something'], raw: true });
      const listed = [await util5.storeKey('key1'), 'key2'];
      assert.deepEqual(await util5.dependents('something'), listed);
      assert.equal(await util5.get('key1'), 'data1');
      assert.equal(await util5.get('key2', { raw: true }), 'data2');

      // A dependency nobody named changes nothing.
      await util.invalidateDependencies(['otherthing']);
      assert.equal(await util5.get('key1'), 'data1');
      assert.equal(await util5.get('key2', { raw: true }), 'data2');
      assert.deepEqual(await util5.dependents('something'), listed);

      await util.invalidateDependencies(['something', 'another thing']);
      assert.equal(await util5.get('key1'), undefined);
      assert.equal(await util5.get('key2', { raw: true }), undefined);
      assert.deepEqual(await util5.dependents('something'), []);
    });

    test('dependencies are per namespace', async () => {
      const util5 = ctx.cache();
      const util = ctx.cache();
      await util5.set('key3', 'data3', { namespace: '1', dependencies: ['something'] });
      await util.invalidateDependencies(['something']);
      assert.equal(await util5.get('key3', { namespace: '1' }), 'data3');
      await util.invalidateDependencies(['something'], { namespace: '1' });
      assert.equal(await util5.get('key3', { namespace: '1' }), undefined);
    });

    test('any JSON-able value is a dependency, and an entry may name several', async () => {
      const cache = ctx.cache();
      await cache.set('k', 'v', { dependencies: [{ table: 'users', id: 7 }, 7], group: 'g' });
      await cache.invalidateDependencies(['7']);
      assert.equal(await cache.get('k', { group: 'g' }), 'v', '"7" is not 7');
      await cache.invalidateDependencies([{ id: 7, table: 'users' }]);
      assert.equal(await cache.get('k', { group: 'g' }), undefined);
    });

    test('seed bug: concurrent appends to one dependency list are never lost', async () => {
      const writers = Array.from({ length: 4 }, () => ctx.isolatedCache());
      const sets = Array.from({ length: 40 }, (_, i) =>
        (writers[i % 4] ?? writers[0])?.set(`k${i}`, i, { dependencies: ['shared'] }),
      );
      assert.deepEqual(
        await Promise.all(sets),
        sets.map(() => true),
      );
      const reader = ctx.cache();
      assert.equal((await reader.dependents('shared')).length, 40);
      await reader.invalidateDependencies(['shared']);
      const left = await reader.getMany(Array.from({ length: 40 }, (_, i) => `k${i}`));
      assert.deepEqual(
        left,
        left.map(() => undefined),
      );
    });

    test('an entry set while its dependency is being invalidated is not left unreachable', async () => {
      const cache = ctx.cache();
      for (let round = 0; round < 10; round++) {
        await Promise.all([
          cache.set(`r${round}`, round, { dependencies: ['race'] }),
          cache.invalidateDependencies(['race']),
        ]);
        await cache.invalidateDependencies(['race']);
        assert.equal(await cache.get(`r${round}`), undefined, `round ${round}`);
      }
    });
  });
}
