/**
 * GuardedCache's shared reads: an entry read again unchanged is not decoded
 * again, and what it hands out cannot be changed by one caller under
 * another. Against real memcached (values come back as bytes) and the
 * in-process store (values come back as strings).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CacheStore } from '@syncstorage-ts/memcache';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import { MemoryStore } from '@syncstorage-ts/memcache';
import { silentLogger } from '@syncstorage-ts/cache';
import { GuardedCache } from '../../src/storage/cached/guarded-cache.js';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';

interface Entry {
  n: number;
  inner: { list: number[] };
}

function isEntry(v: unknown): v is Entry {
  return typeof v === 'object' && v !== null && typeof (v as Entry).n === 'number';
}

function suite(
  name: string,
  open: () => Promise<{ store: CacheStore; close: () => Promise<void> }>,
) {
  describe(`GuardedCache shared reads: ${name}`, () => {
    let store: CacheStore;
    let close: () => Promise<void>;
    let cache: GuardedCache;
    before(async () => {
      ({ store, close } = await open());
      cache = new GuardedCache(store, silentLogger, () => []);
    });
    after(() => close());
    const key = () => `guarded-${Math.random().toString(36).slice(2)}`;

    test('an unchanged entry gives the same frozen value; a changed one is decoded again', async () => {
      const k = key();
      await cache.set(k, { n: 1, inner: { list: [1, 2] } });
      const first = await cache.gets(k, isEntry, { shared: true });
      const again = await cache.gets(k, isEntry, { shared: true });
      assert.ok(first?.value && again?.value);
      assert.equal(again.value, first.value);
      assert.ok(Object.isFrozen(first.value) && Object.isFrozen(first.value.inner.list));
      assert.throws(() => {
        (first.value as Entry).inner.list.push(3);
      }, TypeError);
      assert.equal(first.cas, again.cas);

      await cache.set(k, { n: 2, inner: { list: [] } });
      const changed = await cache.gets(k, isEntry, { shared: true });
      assert.deepEqual(changed?.value, { n: 2, inner: { list: [] } });
      assert.notEqual(changed?.cas, first.cas);
    });

    test('without shared, every read is a fresh object of its own', async () => {
      const k = key();
      await cache.set(k, { n: 1, inner: { list: [] } });
      const a = await cache.gets(k, isEntry);
      const b = await cache.gets(k, isEntry);
      assert.notEqual(a?.value, b?.value);
      assert.equal(Object.isFrozen(a?.value), false);
    });

    test('a value another validator refused is not handed to this one', async () => {
      const k = key();
      await cache.set(k, { n: 'not a number', inner: { list: [] } });
      assert.equal((await cache.gets(k, isEntry, { shared: true }))?.value, null);
      const anything = (v: unknown): v is unknown => v !== undefined;
      assert.deepEqual((await cache.gets(k, anything, { shared: true }))?.value, {
        n: 'not a number',
        inner: { list: [] },
      });
    });
  });
}

suite('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, close: async () => store.close() };
});

let server: MemcachedServer;
suite('memcached', async () => {
  server = await startMemcached();
  const store = new MemcachedClient({ servers: [`127.0.0.1:${server.port}`] });
  return {
    store,
    close: async () => {
      await store.close();
      await server.stop();
    },
  };
});
