/** Invalidation events across registered caches (seed 003 "Invalidationevents"). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheRegistry, UnknownCacheError } from '../src/index.js';
import type { ToolkitContext } from './toolkit-context.js';

export function registerEventTests(ctx: ToolkitContext): void {
  describe('invalidation events', () => {
    test('an event reaches one named cache or all of them, in the right namespace', async () => {
      const registry = new CacheRegistry();
      const cacheUtil1 = ctx.cache();
      registry.register('cacheUtil1', cacheUtil1);
      await cacheUtil1.set('key1', 'Value1', { dependencies: ['dep1'] });
      assert.equal(await cacheUtil1.get('key1'), 'Value1');
      await registry.dispatch({ dependencies: ['dep1'] });
      assert.equal(await cacheUtil1.get('key1'), undefined);

      // Two caches: an event without a name goes to all of them.
      const cacheUtil2 = ctx.cache({ namespace: 'two' });
      registry.register('cacheUtil2', cacheUtil2);
      await cacheUtil1.set('key1', 'Value1', { raw: true, dependencies: ['dep1'] });
      await cacheUtil2.set('key2', 'Value2', { dependencies: ['dep1'] });
      await registry.dispatch({ dependencies: ['dep1'] });
      assert.equal(await cacheUtil1.get('key1', { raw: true }), undefined);
      assert.equal(await cacheUtil2.get('key2'), undefined);

      // Or to the one named.
      await cacheUtil1.set('key1', 'Value1', { raw: true, dependencies: ['dep1'] });
      await cacheUtil2.set('key2', 'Value2', { dependencies: ['dep1'] });
      await registry.dispatch({ cacheName: 'cacheUtil1', dependencies: ['dep1'] });
      assert.equal(await cacheUtil1.get('key1', { raw: true }), undefined);
      assert.equal(await cacheUtil2.get('key2'), 'Value2');

      // The event's namespace, else each cache's default.
      await cacheUtil1.set('key1', 'Value1', { namespace: 'test', dependencies: ['dep1'] });
      await registry.dispatch({ cacheName: 'cacheUtil1', dependencies: ['dep1'] });
      assert.equal(await cacheUtil1.get('key1', { namespace: 'test' }), 'Value1');
      await registry.dispatch({
        cacheName: 'cacheUtil1',
        namespace: 'test',
        dependencies: ['dep1'],
      });
      assert.equal(await cacheUtil1.get('key1', { namespace: 'test' }), undefined);
    });

    test('events carry a key (hashed or raw) or invalidate everything', async () => {
      const registry = new CacheRegistry();
      const cache = ctx.cache();
      registry.register('c', cache);
      await cache.set('k', 1);
      await cache.set('r', 2, { raw: true });
      await cache.set('z', 3, { namespace: 'ns' });
      await registry.dispatch({ key: 'k' });
      await registry.dispatch({ key: 'r', raw: true });
      assert.equal(await cache.get('k'), undefined);
      assert.equal(await cache.get('r', { raw: true }), undefined);
      assert.equal(await cache.get('z', { namespace: 'ns' }), 3);
      await registry.dispatch({ all: true, namespace: 'ns' });
      assert.equal(await cache.get('z', { namespace: 'ns' }), undefined);
      assert.deepEqual(registry.names(), ['c']);
      assert.equal(registry.unregister('c'), true);
    });

    test('an event for an unregistered name is a typed error', async () => {
      await assert.rejects(
        new CacheRegistry().dispatch({ cacheName: 'nope', key: 1 }),
        UnknownCacheError,
      );
    });
  });
}
