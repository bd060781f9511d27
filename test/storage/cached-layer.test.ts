/**
 * The cached layer's own behaviour (seed 000): its keys, the metadata entry,
 * cache hits that never reach the database, rebuilds, expiry, cache-only
 * timestamps.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Metadata } from '../../src/storage/cached/index.js';
import { CachedStorage } from '../../src/storage/cached/index.js';
import {
  CollectionNotFoundError,
  LockEscalationError,
  StorageInputError,
} from '../../src/storage/errors.js';
import { cachedFixture, newUser } from './cached-setup.js';

describe('cached layer: keys and metadata', () => {
  test('keys are {prefix}{uid}:metadata, :c:{collection}, :c:{collection}:batches', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const tMeta = await f.storage.setItems(user, 'meta', [{ id: 'global', payload: 'm' }]);
    await f.storage.getItems(user, 'meta'); // fills the cached copy
    const tTabs = await f.storage.setItems(user, 'tabs', [{ id: 'dev', payload: 'tt' }]);
    const batch = await f.storage.createBatch(user, 'tabs');

    const metadata = (await f.peek(`${user}:metadata`)) as Metadata;
    assert.deepEqual(metadata.collections, { meta: tMeta, tabs: tTabs });
    assert.equal(metadata.modified, tTabs);
    const meta = (await f.peek(`${user}:c:meta`)) as { modified: number; items: object };
    assert.equal(meta.modified, tMeta);
    assert.deepEqual(Object.keys(meta.items), ['global']);
    const tabs = (await f.peek(`${user}:c:tabs`)) as { modified: number };
    assert.equal(tabs.modified, tTabs);
    const batches = (await f.peek(`${user}:c:tabs:batches`)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(batches), [batch]);
    // Uncached collections have no copy; nothing is stored without the prefix.
    await f.storage.setItems(user, 'bookmarks', [{ id: 'b', payload: 'b' }]);
    assert.equal(await f.peek(`${user}:c:bookmarks`), undefined);
    assert.equal(await f.raw.get(`${user}:metadata`), undefined);
    await f.storage.close();
  });

  test('tabs are never written to the database', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'tabs', [{ id: 'dev', payload: 'x' }]);
    await f.storage.deleteItem(user, 'tabs', 'dev');
    assert.ok(
      !f.db.calls.some((c) => ['setItems', 'setItem', 'deleteItem'].includes(c)),
      `${f.db.calls}`,
    );
    await f.storage.close();
  });

  test('a cache hit (info/collections, storage timestamp, cached collection read) asks the database nothing', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'meta', [{ id: 'global', payload: 'm' }]);
    await f.storage.setItems(user, 'clients', [{ id: 'c1', payload: 'c' }]);
    await f.storage.setItems(user, 'bookmarks', [{ id: 'b', payload: 'b' }]);
    await f.storage.setItems(user, 'tabs', [{ id: 't', payload: 't' }]);
    await f.storage.getItems(user, 'meta');
    await f.storage.getItems(user, 'clients');
    await f.storage.getTotalSize(user); // the first one after a rebuild recalculates
    f.db.calls.length = 0;
    const timestamps = await f.storage.getCollectionTimestamps(user);
    assert.deepEqual(Object.keys(timestamps).sort(), ['bookmarks', 'clients', 'meta', 'tabs']);
    await f.storage.getStorageTimestamp(user);
    await f.storage.getCollectionTimestamp(user, 'bookmarks');
    assert.equal((await f.storage.getItems(user, 'meta')).items.length, 1);
    assert.equal((await f.storage.getItem(user, 'clients', 'c1')).payload, 'c');
    await f.storage.getItems(user, 'tabs');
    await f.storage.getTotalSize(user);
    assert.deepEqual(f.db.calls, []);
    await f.storage.close();
  });

  test('a read lock on a cached collection takes no database lock and reads one snapshot', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const t0 = await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'old' }]);
    await f.storage.getItems(user, 'meta');
    f.db.calls.length = 0;
    let signal!: () => void;
    const halfway = new Promise<void>((resolve) => (signal = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const reading = f.storage.withReadLock(user, 'meta', async (tx) => {
      const ts = await tx.getCollectionTimestamp(user, 'meta');
      signal();
      await gate;
      const { items } = await tx.getItems(user, 'meta');
      return { ts, payloads: items.map((b) => b.payload) };
    });
    await halfway;
    assert.deepEqual(f.db.calls, [], 'a hit under a read lock issues no SQL');
    // Another request writes in between (not blocked: no lock was taken).
    const t1 = await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'new' }]);
    release();
    assert.deepEqual(await reading, { ts: t0, payloads: ['old'] }, 'one consistent snapshot');
    assert.deepEqual(
      await f.storage.withReadLock(user, 'meta', async (tx) => [
        await tx.getCollectionTimestamp(user, 'meta'),
        (await tx.getItem(user, 'meta', 'a')).payload,
      ]),
      [t1, 'new'],
    );
    await assert.rejects(
      f.storage.withReadLock(user, 'meta', (tx) => tx.setItems(user, 'meta', [{ id: 'b' }])),
      LockEscalationError,
    );
    await f.storage.close();
  });

  test('metadata is rebuilt from the database (and cache-only entries) when missing', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const t1 = await f.storage.setItems(user, 'bookmarks', [{ id: 'b', payload: 'abc' }]);
    const t2 = await f.storage.setItems(user, 'tabs', [{ id: 't', payload: 'de' }]);
    await f.raw.delete(`${f.prefix}${user}:metadata`);
    assert.deepEqual(await f.storage.getCollectionTimestamps(user), { bookmarks: t1, tabs: t2 });
    assert.equal(await f.storage.getStorageTimestamp(user), t2);
    // seed bug: a rebuilt entry reported a total size of 0 until a recalculation was asked for.
    assert.equal(await f.storage.getTotalSize(user), 5);
    assert.deepEqual(await f.storage.getCollectionCounts(user), { bookmarks: 1, tabs: 1 });
    assert.deepEqual(await f.storage.getCollectionSizes(user), { bookmarks: 3, tabs: 2 });
    await f.storage.close();
  });

  test('the total size is recalculated at most hourly when asked to', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'bookmarks', [{ id: 'b', payload: 'abc' }]);
    assert.equal(await f.storage.getTotalSize(user, true), 3);
    // An overwrite is counted again (the layer cannot see the old size cheaply) ...
    await f.storage.setItems(user, 'bookmarks', [{ id: 'b', payload: 'abcd' }]);
    assert.equal(await f.storage.getTotalSize(user, true), 7);
    // ... until the hourly recalculation.
    f.clock.advance(3601_000);
    assert.equal(await f.storage.getTotalSize(user, true), 4);
    await f.storage.close();
  });

  test('a write marks the collection dirty until it is done', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const t0 = await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'a' }]);
    let seen: Metadata | undefined;
    f.db.hooks.before = async (method) => {
      if (method === 'setItems') seen = (await f.peek(`${user}:metadata`)) as Metadata;
    };
    const t1 = await f.storage.setItems(user, 'meta', [{ id: 'b', payload: 'b' }]);
    assert.equal(seen?.collections.meta, null);
    assert.equal(seen?.modified, null);
    assert.deepEqual(seen?.pending, { meta: 1 });
    const after = (await f.peek(`${user}:metadata`)) as Metadata;
    assert.ok(t1 > t0);
    assert.equal(after.collections.meta, t1);
    assert.equal(after.modified, t1);
    assert.deepEqual(after.pending, {});
    await f.storage.close();
  });

  test("seed bug: a finished write does not wipe another write's dirty mark", async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'a' }]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    f.db.hooks.before = async (method, args) => {
      if (method === 'setItems' && args[1] === 'meta') {
        entered();
        await gate;
      }
    };
    const slow = f.storage.setItems(user, 'meta', [{ id: 'b', payload: 'b' }]);
    await inside;
    await f.storage.setItems(user, 'bookmarks', [{ id: 'x', payload: 'x' }]);
    const during = (await f.peek(`${user}:metadata`)) as Metadata;
    assert.equal(during.collections.meta, null, 'meta still being written');
    release();
    const t = await slow;
    assert.equal(await f.storage.getCollectionTimestamp(user, 'meta'), t);
    assert.equal((await f.storage.getItems(user, 'meta')).items.length, 2);
    await f.storage.close();
  });

  test('a cached copy that missed a write is never served', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'clients', [{ id: 'a', payload: 'old' }]);
    await f.storage.getItems(user, 'clients');
    const stale = await f.raw.get(`${f.prefix}${user}:c:clients`);
    await f.storage.setItems(user, 'clients', [{ id: 'a', payload: 'new' }]);
    // Someone puts an old copy back (a slow rebuild, a bug elsewhere).
    await f.raw.set(`${f.prefix}${user}:c:clients`, stale);
    assert.equal((await f.storage.getItem(user, 'clients', 'a')).payload, 'new');
    await f.storage.close();
  });

  test('expired items are filtered on read and dropped from the entry on write', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'tabs', [
      { id: 'short', payload: 's', ttl: 1 },
      { id: 'long', payload: 'l' },
    ]);
    f.clock.advance(2000);
    assert.deepEqual((await f.storage.getItemIds(user, 'tabs')).items, ['long']);
    assert.deepEqual(await f.storage.getCollectionCounts(user), { tabs: 1 });
    const before = (await f.peek(`${user}:c:tabs`)) as { items: object };
    assert.ok('short' in before.items, 'still stored until the next write');
    await f.storage.setItems(user, 'tabs', [{ id: 'other', payload: 'o' }]);
    const after = (await f.peek(`${user}:c:tabs`)) as { items: object };
    assert.deepEqual(Object.keys(after.items).sort(), ['long', 'other']);
    await f.storage.close();
  });

  test('cache-only timestamps increase strictly per user and follow the storage timestamp', async () => {
    const f = await cachedFixture();
    const user = newUser();
    f.clock.freeze();
    const t1 = await f.storage.setItems(user, 'bookmarks', [{ id: 'b', payload: 'b' }]);
    const t2 = await f.storage.setItems(user, 'tabs', [{ id: 't', payload: 't' }]);
    const t3 = await f.storage.setItems(user, 'tabs', [{ id: 't', payload: 'u' }]);
    assert.ok(t1 < t2 && t2 < t3, `${t1} ${t2} ${t3}`);
    assert.equal(await f.storage.getStorageTimestamp(user), t3);
    const [a, b] = await f.storage.withWriteLock(user, 'tabs', async (tx) => [
      await tx.setItems(user, 'tabs', [{ id: 'x', payload: 'x' }]),
      await tx.setItems(user, 'tabs', [{ id: 'y', payload: 'y' }]),
    ]);
    assert.ok(a! > t3);
    assert.equal(a, b, 'writes under one lock share its timestamp');
    await f.storage.close();
  });

  test('ids that are Object.prototype names are plain ids', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'tabs', [{ id: '__proto__', payload: 'p' }]);
    await f.storage.setItems(user, 'meta', [{ id: 'constructor', payload: 'c' }]);
    assert.equal((await f.storage.getItem(user, 'tabs', '__proto__')).payload, 'p');
    assert.equal((await f.storage.getItem(user, 'meta', 'constructor')).payload, 'c');
    await assert.rejects(f.storage.getItem(user, 'meta', 'toString'));
    assert.deepEqual((await f.storage.getItemIds(user, 'tabs')).items, ['__proto__']);
    await f.storage.close();
  });

  test('options are validated', async () => {
    const f = await cachedFixture();
    const base = { storage: f.db.storage, cache: f.chaos };
    assert.throws(
      () => new CachedStorage({ ...base, cachedCollections: ['bad name'] }),
      StorageInputError,
    );
    assert.throws(
      () =>
        new CachedStorage({ ...base, cachedCollections: ['tabs'], cacheOnlyCollections: ['tabs'] }),
      StorageInputError,
    );
    assert.throws(() => new CachedStorage({ ...base, lockTtl: 0 }), StorageInputError);
    assert.throws(() => new CachedStorage({ ...base, keyPrefix: 'a b' }), StorageInputError);
    await f.storage.close();
  });
});

describe('cached layer: dirty marks and cache-only batches', () => {
  test('seed bug: a dirty mark left by a dead writer is healed once it is older than the lock TTL', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const t0 = await f.storage.setItems(user, 'bookmarks', [{ id: 'a', payload: 'a' }]);
    // A writer marked the collection and died before finishing.
    const key = `${f.prefix}${user}:metadata`;
    const m = (await f.peek(`${user}:metadata`)) as Metadata;
    const since = Math.floor(f.clock.now() / 1000);
    await f.raw.set(
      key,
      JSON.stringify({
        ...m,
        modified: null,
        collections: { ...m.collections, bookmarks: null },
        pending: { bookmarks: 1 },
        dirty_since: { bookmarks: since },
      }),
    );
    assert.equal(await f.storage.getCollectionTimestamp(user, 'bookmarks'), t0);
    let now = (await f.peek(`${user}:metadata`)) as Metadata;
    assert.equal(now.collections.bookmarks, null, 'a write may still be in flight');
    f.clock.advance(301_000);
    assert.equal(await f.storage.getCollectionTimestamp(user, 'bookmarks'), t0);
    now = (await f.peek(`${user}:metadata`)) as Metadata;
    assert.equal(now.collections.bookmarks, t0, 'healed');
    assert.equal(now.modified, t0);
    f.db.calls.length = 0;
    await f.storage.getCollectionTimestamps(user);
    assert.deepEqual(f.db.calls, []);
    await f.storage.close();
  });

  test('an evicted cache-only collection is forgotten by the metadata on the next read', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'bookmarks', [{ id: 'b', payload: 'b' }]);
    const t = await f.storage.setItems(user, 'tabs', [{ id: 't', payload: 't' }]);
    await f.raw.delete(`${f.prefix}${user}:c:tabs`); // evicted
    assert.ok('tabs' in (await f.storage.getCollectionTimestamps(user)));
    await assert.rejects(f.storage.getItems(user, 'tabs'), CollectionNotFoundError);
    assert.deepEqual(Object.keys(await f.storage.getCollectionTimestamps(user)), ['bookmarks']);
    assert.equal(await f.storage.getStorageTimestamp(user), t, 'never goes back');
    await f.storage.close();
  });

  test('cache-only batches live in the cache, apply at one timestamp and expire after 2 hours', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const batch = await f.storage.createBatch(user, 'tabs');
    assert.match(batch, /^\d+$/);
    await f.storage.appendItemsToBatch(user, 'tabs', batch, [{ id: 'a', payload: '1' }]);
    await f.storage.appendItemsToBatch(user, 'tabs', batch, [{ id: 'b', payload: '2', ttl: 60 }]);
    await assert.rejects(f.storage.getItems(user, 'tabs'));
    const ts = await f.storage.applyBatch(user, 'tabs', batch);
    const { items } = await f.storage.getItems(user, 'tabs', { sort: 'oldest' });
    assert.deepEqual(
      items.map((b) => [b.id, b.modified]),
      [
        ['a', ts],
        ['b', ts],
      ],
    );
    assert.equal(items[1]!.expiry, Math.floor(ts / 1000) + 60, 'ttl counts from the commit');
    await f.storage.closeBatch(user, 'tabs', batch);
    assert.equal(await f.storage.validBatch(user, 'tabs', batch), false);
    const old = await f.storage.createBatch(user, 'tabs');
    f.clock.advance(2 * 3600 * 1000 + 1000);
    assert.equal(await f.storage.validBatch(user, 'tabs', old), false);
    assert.ok(!f.db.calls.some((c) => c.includes('Batch')), `${f.db.calls}`);
    await f.storage.close();
  });
});
