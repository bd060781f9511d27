/** Keys, values, namespaces, raw keys, version prefix, statistics (seed 003 intro, 002 keys). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheKeyError, CacheOptionError, MAX_KEY_BYTES } from '../src/index.js';
import type { ToolkitContext } from './toolkit-context.js';

export function registerKeyTests(ctx: ToolkitContext): void {
  describe('keys and values', () => {
    test('a cache has a default lifetime of 3600 s and no default namespace', () => {
      const cache = ctx.cache();
      assert.equal(cache.defaultLifetime, 3600);
      assert.equal(cache.options.namespace, null);
    });

    test('set stores a value under a hashed key; invalidate removes it', async () => {
      const cache = ctx.cache();
      assert.equal(await cache.set('cache_key', 'cached value'), true);
      const storeKey = await cache.storeKey('cache_key');
      assert.match(storeKey ?? '', /^k[A-Za-z0-9_-]{43}$/);
      assert.equal(await ctx.store.get(storeKey as string), 'cached value');
      assert.equal(await cache.get('cache_key'), 'cached value');
      assert.equal(await cache.invalidate('cache_key'), true);
      assert.equal(await cache.get('cache_key'), undefined);
    });

    test('unicode values round-trip; invalidateAll drops them', async () => {
      const cache = ctx.cache();
      await cache.set('cache_key', 'cached value ☃ ü 𝄞');
      assert.equal(await cache.get('cache_key'), 'cached value ☃ ü 𝄞');
      await cache.invalidateAll();
      assert.equal(await cache.get('cache_key'), undefined);
    });

    test('values round-trip exactly, and a stored null is not a miss', async () => {
      const cache = ctx.cache();
      const values: Array<[string, unknown]> = [
        ['string', 'text'],
        ['empty', ''],
        ['int', 42],
        ['float', -1.5],
        ['true', true],
        ['false', false],
        ['array', [1, 'two', [3], { four: 4 }]],
        ['object', { a: 1, nested: { b: [true, null] } }],
        ['buffer', Buffer.from([0, 1, 2, 255, 13, 10])],
        ['null', null],
      ];
      for (const [key, value] of values) assert.equal(await cache.set(key, value), true);
      for (const [key, value] of values) assert.deepEqual(await cache.get(key), value, key);
      assert.ok(Buffer.isBuffer(await cache.get('buffer')));
      assert.equal(await cache.get('null'), null);
      assert.equal(await cache.get('never set'), undefined);
    });

    test('any JSON-able value is a key; 1 and "1" are different keys', async () => {
      const cache = ctx.cache();
      await cache.set(1, 'number');
      await cache.set('1', 'string');
      await cache.set({ b: 2, a: [1, { c: 3 }] }, 'object');
      await cache.set(Buffer.from('k'), 'buffer');
      await cache.set(null, 'null');
      assert.equal(await cache.get(1), 'number');
      assert.equal(await cache.get('1'), 'string');
      assert.equal(
        await cache.get({ a: [1, { c: 3 }], b: 2 }),
        'object',
        'property order is irrelevant',
      );
      assert.equal(await cache.get(['b', 2, 'a', [1, { c: 3 }]]), undefined);
      assert.equal(await cache.get(Buffer.from('k')), 'buffer');
      assert.equal(await cache.get('k'), undefined);
      assert.equal(await cache.get(null), 'null');
    });

    test('seed bug: control characters are kept, so "a b" and "ab" are two keys', async () => {
      const cache = ctx.cache();
      await cache.set('a b', 'with space');
      await cache.set('ab', 'without');
      await cache.set('a\u0000b', 'with NUL');
      await cache.set('a\nb', 'with newline');
      assert.equal(await cache.get('a b'), 'with space');
      assert.equal(await cache.get('ab'), 'without');
      assert.equal(await cache.get('a\u0000b'), 'with NUL');
      assert.equal(await cache.get('a\nb'), 'with newline');
      await cache.set('a b', 'raw space', { raw: true });
      await cache.set('ab', 'raw plain', { raw: true });
      assert.equal(await cache.get('a b', { raw: true }), 'raw space');
      assert.equal(await cache.get('ab', { raw: true }), 'raw plain');
    });

    test('keys that cannot be encoded and undefined values are typed errors', async () => {
      const cache = ctx.cache();
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await assert.rejects(
        cache.set(() => 1, 'x'),
        CacheKeyError,
      );
      await assert.rejects(cache.get(cyclic), CacheKeyError);
      await assert.rejects(cache.get(Number.NaN), CacheKeyError);
      await assert.rejects(cache.get(new Map()), CacheKeyError);
      await assert.rejects(cache.set('k', undefined), CacheOptionError);
      await assert.rejects(cache.set('k', 1, { lifetime: -1 }), CacheOptionError);
    });

    test('getMany reads many keys in one call, aligned with the keys', async () => {
      const cache = ctx.cache({ namespace: 'many' });
      await cache.set('a', 1);
      await cache.set('c', 3);
      assert.deepEqual(await cache.getMany(['a', 'b', 'c']), [1, undefined, 3]);
    });

    test('add stores only when the key is absent (seed 002 add)', async () => {
      const cache = ctx.cache();
      assert.equal(await cache.add('k', 'first', { group: 'g' }), true);
      assert.equal(await cache.add('k', 'second', { group: 'g' }), false);
      assert.equal(await cache.get('k', { group: 'g' }), 'first');
    });

    test('a lifetime over 30 days is not taken for an absolute time in the past', async () => {
      const cache = ctx.cache();
      await cache.set('long', 'lives', { lifetime: 60 * 86400 });
      assert.equal(await cache.get('long'), 'lives');
    });
  });

  describe('namespaces', () => {
    test('caches with different default namespaces share a store without clashing', async () => {
      const util1 = ctx.cache({ namespace: '1' });
      const util2 = ctx.cache({ namespace: '2' });
      await util1.set(1, 1);
      await util2.set(2, 2);
      assert.equal(await util1.get(1), 1);
      assert.equal(await util1.get(2), undefined);
      assert.equal(await util1.get(2, { namespace: '2' }), 2);
      assert.equal(await util2.get(2), 2);
      assert.equal(await util2.get(1), undefined);
      await util1.invalidateAll();
      assert.equal(await util1.get(1), undefined);
      assert.equal(await util2.get(2), undefined, 'invalidateAll reaches every namespace');
    });

    test('invalidateAll({ namespace }) drops one namespace only, in O(1)', async () => {
      const cache = ctx.cache();
      await cache.set('k', 'a', { namespace: 'A' });
      await cache.set('k', 'b', { namespace: 'B' });
      await cache.set('k', 'none');
      await cache.invalidateAll({ namespace: 'A' });
      assert.equal(await cache.get('k', { namespace: 'A' }), undefined);
      assert.equal(await cache.get('k', { namespace: 'B' }), 'b');
      assert.equal(await cache.get('k'), 'none');
    });

    test('another cache (own generation counters) sees an invalidateAll', async () => {
      const writer = ctx.cache({ namespace: 'n' });
      await writer.set('k', 'v');
      const other = ctx.isolatedCache({ namespace: 'n' });
      assert.equal(await other.get('k'), 'v');
      await writer.invalidateAll();
      assert.equal(await other.get('k'), undefined);
    });
  });

  describe('raw keys', () => {
    test('a raw key is the string verbatim with the namespace prepended; non-strings are refused', async () => {
      const cache = ctx.cache();
      await assert.rejects(cache.set(1, 'value of a', { raw: true }), CacheKeyError);
      await assert.rejects(cache.set({ a: 1 }, 'value of a', { raw: true }), CacheKeyError);
      assert.equal(await cache.storeKey('a', { raw: true }), 'a');
      assert.equal(await cache.set('a', 'value of a', { raw: true }), true);
      assert.equal(await cache.storeKey('a', { namespace: 'NS_', raw: true }), 'NS_a');
      assert.equal(await cache.set('a', 'value of a', { namespace: 'NS_', raw: true }), true);
      assert.equal(await ctx.store.get('NS_a'), 'value of a', 'outside programs read it verbatim');
      assert.equal(await cache.get('a', { raw: true }), 'value of a');
      assert.equal(await cache.get('a', { raw: false }), undefined);
      await assert.rejects(cache.set('a', 1, { raw: true, group: 'g' }), CacheKeyError);
    });

    test('invalidation takes the raw flag too', async () => {
      const cache = ctx.cache();
      await cache.set('a', 'value of a', { raw: true });
      await cache.invalidate('a');
      assert.equal(await cache.get('a', { raw: true }), 'value of a');
      await cache.invalidate('a', { raw: true });
      assert.equal(await cache.get('a', { raw: true }), undefined);
    });

    test('long raw keys are shortened with a digest of the whole key, never into a collision', async () => {
      const cache = ctx.cache();
      const prefix = 'x'.repeat(300);
      const k1 = `${prefix}-one`;
      const k2 = `${prefix}-two`;
      const s1 = (await cache.storeKey(k1, { raw: true })) as string;
      const s2 = (await cache.storeKey(k2, { raw: true })) as string;
      assert.notEqual(s1, s2);
      assert.ok(Buffer.byteLength(s1) <= MAX_KEY_BYTES);
      assert.ok(s1.startsWith('x'.repeat(200)));
      const wide = '€'.repeat(120);
      assert.ok(
        Buffer.byteLength((await cache.storeKey(wide, { raw: true })) as string) <= MAX_KEY_BYTES,
      );
      await cache.set(k1, 1, { raw: true });
      await cache.set(k2, 2, { raw: true });
      assert.equal(await cache.get(k1, { raw: true }), 1);
      assert.equal(await cache.get(k2, { raw: true }), 2);
    });
  });

  describe('flush (seed 002 clear)', () => {
    test('flush empties the whole store: every namespace, version and raw key', async () => {
      const cache = ctx.cache();
      await cache.set('k', 1, { namespace: 'a' });
      await ctx.cache({ version: 'other' }).set('k', 2);
      await cache.set('r', 3, { raw: true });
      assert.equal(await cache.flush(), true);
      assert.equal(await cache.get('k', { namespace: 'a' }), undefined);
      assert.equal(await ctx.cache({ version: 'other' }).get('k'), undefined);
      assert.equal(await cache.get('r', { raw: true }), undefined);
      assert.equal(await cache.set('k', 4), true, 'usable afterwards');
      assert.equal(await cache.get('k'), 4);
    });
  });

  describe('version prefix (seed 002)', () => {
    test('deployments with different versions never read each other; the same version shares', async () => {
      const v1 = ctx.cache({ version: 'v1' });
      const v2 = ctx.cache({ version: 'v2' });
      await v1.set('k', 'format 1', { group: 'g' });
      assert.equal(await v2.get('k', { group: 'g' }), undefined);
      await v2.set('k', 'format 2', { group: 'g' });
      assert.equal(await v1.get('k', { group: 'g' }), 'format 1');
      assert.equal(await ctx.cache({ version: 'v2' }).get('k', { group: 'g' }), 'format 2');
      await v1.invalidateAll();
      assert.equal(
        await v2.get('k', { group: 'g' }),
        'format 2',
        'invalidateAll stays in its version',
      );
    });
  });

  describe('statistics', () => {
    test('stats() reports the store per server and the cache counters', async () => {
      const cache = ctx.cache();
      await cache.set('k', 'v');
      await cache.get('k');
      await cache.get('missing');
      await cache.invalidate('k');
      const stats = await cache.stats();
      assert.deepEqual(
        { ...stats.counters },
        {
          hits: 1,
          misses: 1,
          staleServed: 0,
          loaderCalls: 0,
          errors: 0,
          sets: 1,
          invalidations: 1,
        },
      );
      const servers = Object.entries(stats.servers);
      assert.ok(servers.length >= 1);
      for (const [, values] of servers) assert.equal(typeof values, 'object');
      if (ctx.capabilities.memcachedStats) {
        for (const [server, values] of servers) {
          assert.match(server, /^127\.0\.0\.1:\d+$/);
          assert.match(values.total_items ?? '', /^\d+$/);
        }
      }
    });
  });
}
