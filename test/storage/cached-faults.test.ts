/**
 * Faults of the cached layer: each failure point of a write (between the
 * dirty mark and the write, between the write and the cache refresh), lost
 * CAS races, the cache unreachable, flushed or restarted. The database is
 * the truth: no read may ever return stale or wrong data.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import { CacheProtocolError, CacheTimeoutError } from '@syncstorage-ts/memcache';
import type { Metadata } from '../../src/storage/cached/index.js';
import { ConflictError, StorageUnavailableError } from '../../src/storage/errors.js';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';
import { cachedFixture, newUser, type CachedFixture } from './cached-setup.js';

async function payloads(f: CachedFixture, user: number, collection: string): Promise<string[]> {
  const { items } = await f.storage.getItems(user, collection, { sort: 'oldest' });
  return items.map((bso) => `${bso.id}=${bso.payload}`);
}

describe('cached layer: failure points of a write', () => {
  test('a crash between the dirty mark and the write leaves it dirty; the next read goes to the database and heals it', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const t0 = await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'old' }]);
    await payloads(f, user, 'meta');
    f.db.hooks.before = (method) => {
      if (method === 'setItems') throw new Error('process died here');
    };
    await assert.rejects(f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'new' }]), /died/);
    f.db.hooks.before = undefined;
    assert.equal(((await f.peek(`${user}:metadata`)) as Metadata).collections.meta, null);
    f.db.calls.length = 0;
    assert.equal(await f.storage.getCollectionTimestamp(user, 'meta'), t0);
    assert.ok(f.db.calls.includes('getCollectionTimestamp'), 'read the truth');
    assert.equal(((await f.peek(`${user}:metadata`)) as Metadata).collections.meta, t0, 'healed');
    assert.deepEqual(await payloads(f, user, 'meta'), ['a=old']);
    await f.storage.close();
  });

  test('a storage error puts the old metadata and cached copy back', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const t0 = await f.storage.setItems(user, 'clients', [{ id: 'a', payload: 'old' }]);
    await payloads(f, user, 'clients');
    f.db.hooks.before = (method) => {
      if (method === 'setItems') throw new ConflictError();
    };
    await assert.rejects(
      f.storage.setItems(user, 'clients', [{ id: 'b', payload: 'x' }]),
      ConflictError,
    );
    f.db.hooks.before = undefined;
    const m = (await f.peek(`${user}:metadata`)) as Metadata;
    assert.equal(m.collections.clients, t0);
    assert.equal(m.modified, t0);
    assert.equal(((await f.peek(`${user}:c:clients`)) as { modified: number }).modified, t0);
    f.db.calls.length = 0;
    assert.deepEqual(await payloads(f, user, 'clients'), ['a=old']);
    assert.deepEqual(f.db.calls, [], 'served from the restored copy');
    await f.storage.close();
  });

  test('a failure after the write, before the cache refresh, never serves the old data', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'old' }]);
    await payloads(f, user, 'meta');
    f.db.hooks.after = (method) => {
      if (method === 'setItems') throw new Error('died after the commit');
    };
    await assert.rejects(f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'new' }]), /died/);
    f.db.hooks.after = undefined;
    assert.deepEqual(await payloads(f, user, 'meta'), ['a=new']);
    const ts = await f.storage.getCollectionTimestamp(user, 'meta');
    assert.equal(ts, (await f.storage.getItem(user, 'meta', 'a')).modified);
    await f.storage.close();
  });

  test('a refresh that loses its race clears the entry instead of failing the request', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'old' }]);
    await payloads(f, user, 'meta');
    const key = `${f.prefix}${user}:c:meta`;
    const undo = f.chaos.rule((op, k) => (op === 'add' && k === key ? 'no' : undefined));
    const ts = await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'new' }]);
    undo();
    assert.ok(ts > 0);
    assert.equal(await f.peek(`${user}:c:meta`), undefined);
    assert.deepEqual(await payloads(f, user, 'meta'), ['a=new']);
    await f.storage.close();
  });

  test('a refresh that fails with a cache error still answers the successful write', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'clients', [{ id: 'a', payload: 'old' }]);
    await payloads(f, user, 'clients');
    const key = `${f.prefix}${user}:c:clients`;
    const undo = f.chaos.rule((op, k) =>
      op === 'add' && k === key ? new CacheProtocolError('chaos') : undefined,
    );
    await f.storage.setItems(user, 'clients', [{ id: 'a', payload: 'new' }]);
    undo();
    assert.deepEqual(await payloads(f, user, 'clients'), ['a=new']);
    await f.storage.close();
  });

  test('a dirty mark that keeps losing its CAS is a ConflictError, and nothing is written', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'bookmarks', [{ id: 'a', payload: 'old' }]);
    const key = `${f.prefix}${user}:metadata`;
    const undo = f.chaos.rule((op, k) => (op === 'cas' && k === key ? 'no' : undefined));
    f.db.calls.length = 0;
    await assert.rejects(
      f.storage.setItems(user, 'bookmarks', [{ id: 'b', payload: 'x' }]),
      ConflictError,
    );
    undo();
    assert.ok(!f.db.calls.includes('setItems'));
    assert.deepEqual(await payloads(f, user, 'bookmarks'), ['a=old']);
    await f.storage.close();
  });

  test('seed bug: the cache does not keep what a rolled-back transaction wrote', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const t0 = await f.storage.setItems(user, 'meta', [{ id: 'keep', payload: 'k' }]);
    await payloads(f, user, 'meta');
    await assert.rejects(
      f.storage.withWriteLock(user, 'meta', async (tx) => {
        await tx.setItems(user, 'meta', [{ id: 'lost', payload: 'l' }]);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(await payloads(f, user, 'meta'), ['keep=k']);
    assert.equal(await f.storage.getCollectionTimestamp(user, 'meta'), t0);
    await f.storage.close();
  });
});

describe('cached layer: an entry no process can repair', () => {
  test('a stale metadata entry lives at most entryLifetime from its rebuild, however often it is updated', async () => {
    const f = await cachedFixture({ entryLifetime: 60 });
    const user = newUser();
    await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'v1' }]);
    await payloads(f, user, 'meta');
    // What a writer that died after a memcached restart leaves: the database
    // moved on and the cache's entry says nothing of it.
    const t2 = await f.db.storage.setItems(user, 'meta', [{ id: 'a', payload: 'v2' }]);
    assert.notEqual(await f.storage.getCollectionTimestamp(user, 'meta'), t2, 'stale at first');
    f.clock.advance(30_000);
    await f.storage.setItems(user, 'bookmarks', [{ id: 'b', payload: 'b' }]); // updates the entry
    assert.notEqual(await f.storage.getCollectionTimestamp(user, 'meta'), t2);
    f.clock.advance(30_000);
    assert.equal(await f.storage.getCollectionTimestamp(user, 'meta'), t2, 'rebuilt');
    assert.deepEqual(await payloads(f, user, 'meta'), ['a=v2']);
    await f.storage.close();
  });
});

describe('cached layer: cache unreachable (chaos)', () => {
  test('reads come from the database, writes are refused with nothing written, one log line per outage; no stale data after', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const t0 = await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'old' }]);
    await f.storage.setItems(user, 'bookmarks', [{ id: 'b', payload: 'old' }]);
    await payloads(f, user, 'meta');
    f.chaos.down = true;
    f.db.calls.length = 0;
    // Another process could not see a write made without its dirty mark (issue 13).
    for (const collection of ['meta', 'bookmarks']) {
      await assert.rejects(
        f.storage.setItems(user, collection, [{ id: 'x', payload: 'new' }]),
        StorageUnavailableError,
      );
    }
    await assert.rejects(f.storage.deleteStorage(user), StorageUnavailableError);
    assert.ok(!f.db.calls.includes('setItems') && !f.db.calls.includes('deleteStorage'));
    f.db.calls.length = 0;
    assert.deepEqual(await payloads(f, user, 'meta'), ['a=old']);
    assert.deepEqual(await payloads(f, user, 'bookmarks'), ['b=old']);
    assert.ok(f.db.calls.includes('getItems'), 'read from the database');
    assert.equal(await f.storage.getCollectionTimestamp(user, 'meta'), t0);
    assert.deepEqual(Object.keys(await f.storage.getCollectionTimestamps(user)).sort(), [
      'bookmarks',
      'meta',
    ]);
    assert.equal((await f.storage.healthCheck()).cache, false);
    assert.equal(f.logs.filter((l) => l.level === 'warn').length, 1, JSON.stringify(f.logs));
    // The cache comes back with its old contents (a network cut, not a restart).
    f.chaos.down = false;
    assert.deepEqual(await payloads(f, user, 'meta'), ['a=old']);
    const t1 = await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'new' }]);
    assert.deepEqual(await payloads(f, user, 'meta'), ['a=new']);
    assert.equal(await f.storage.getCollectionTimestamp(user, 'meta'), t1);
    assert.ok(f.logs.some((l) => l.level === 'info' && /reachable again/.test(l.message)));
    await f.storage.close();
  });

  test('a cache that times out is treated as down; a lock taken as the cache comes back is not lost', async () => {
    const f = await cachedFixture({ cacheLocks: true });
    const user = newUser();
    await f.storage.setItems(user, 'clients', [{ id: 'a', payload: 'old' }]);
    await payloads(f, user, 'clients');
    const undo = f.chaos.rule(() => new CacheTimeoutError('chaos: too slow'));
    await assert.rejects(
      f.storage.setItems(user, 'clients', [{ id: 'a', payload: 'new' }]),
      StorageUnavailableError,
    );
    assert.deepEqual(await payloads(f, user, 'clients'), ['a=old']);
    undo();
    await f.storage.setItems(user, 'clients', [{ id: 'a', payload: 'new' }]);
    // The first cache call after the outage is a lock: taken once, released once.
    await f.storage.withWriteLock(user, 'bookmarks', async (tx) => {
      await tx.setItems(user, 'bookmarks', [{ id: 'b', payload: 'b' }]);
    });
    assert.equal(await f.raw.get(`${f.prefix}${user}:lock:bookmarks`), undefined);
    assert.deepEqual(await payloads(f, user, 'clients'), ['a=new']);
    await f.storage.close();
  });

  test('cache-only collections answer StorageUnavailableError instead of pretending', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.storage.setItems(user, 'tabs', [{ id: 't', payload: 'x' }]);
    f.chaos.down = true;
    await assert.rejects(
      f.storage.setItems(user, 'tabs', [{ id: 't', payload: 'y' }]),
      StorageUnavailableError,
    );
    await assert.rejects(f.storage.getItems(user, 'tabs'), StorageUnavailableError);
    await assert.rejects(f.storage.getItem(user, 'tabs', 't'), StorageUnavailableError);
    await assert.rejects(f.storage.deleteCollection(user, 'tabs'), StorageUnavailableError);
    await assert.rejects(f.storage.createBatch(user, 'tabs'), StorageUnavailableError);
    await assert.rejects(
      f.storage.withWriteLock(user, 'tabs', async () => 1),
      StorageUnavailableError,
    );
    await assert.rejects(f.storage.deleteStorage(user), StorageUnavailableError);
    f.chaos.down = false;
    assert.equal((await f.storage.getItem(user, 'tabs', 't')).payload, 'x');
    await f.storage.close();
  });
});

describe('cached layer: real memcached flushed, killed, restarted', () => {
  let mc: MemcachedServer;
  before(async () => {
    mc = await startMemcached();
  });
  after(() => mc?.stop());

  const client = () =>
    new MemcachedClient({
      servers: [mc.address],
      connectTimeout: 200,
      requestTimeout: 300,
      retryInterval: 100,
      reconnectDelay: 20,
      maxReconnectDelay: 100,
    });

  test('a flush at any point of a write never serves stale data', async () => {
    const cache = client();
    const f = await cachedFixture({ cache });
    const user = newUser();
    await f.storage.setItems(user, 'meta', [{ id: 'a', payload: 'v0' }]);
    for (const [i, point] of ['before', 'after'].entries()) {
      await payloads(f, user, 'meta');
      f.db.hooks[point as 'before' | 'after'] = async (method) => {
        if (method === 'setItems') await cache.flush();
      };
      const ts = await f.storage.setItems(user, 'meta', [{ id: 'a', payload: `v${i + 1}` }]);
      f.db.hooks.before = f.db.hooks.after = undefined;
      assert.deepEqual(await payloads(f, user, 'meta'), [`a=v${i + 1}`], point);
      assert.equal(await f.storage.getCollectionTimestamp(user, 'meta'), ts, point);
      assert.equal(await f.storage.getStorageTimestamp(user), ts, point);
    }
    await f.storage.close();
  });

  test('killed: the database answers, tabs are unavailable; restarted: the cache is used again', async () => {
    const cache = client();
    const f = await cachedFixture({ cache });
    const user = newUser();
    await f.storage.setItems(user, 'clients', [{ id: 'c', payload: 'v0' }]);
    await f.storage.setItems(user, 'tabs', [{ id: 't', payload: 'x' }]);
    await payloads(f, user, 'clients');
    const t0 = await f.storage.getCollectionTimestamp(user, 'clients');
    await mc.kill();
    try {
      await assert.rejects(
        f.storage.setItems(user, 'clients', [{ id: 'c', payload: 'v1' }]),
        StorageUnavailableError,
      );
      assert.deepEqual(await payloads(f, user, 'clients'), ['c=v0']);
      assert.equal(await f.storage.getCollectionTimestamp(user, 'clients'), t0);
      await assert.rejects(f.storage.getItems(user, 'tabs'), StorageUnavailableError);
      await assert.rejects(
        f.storage.setItems(user, 'tabs', [{ id: 't', payload: 'y' }]),
        StorageUnavailableError,
      );
      assert.equal(f.logs.filter((l) => l.level === 'warn').length, 1, JSON.stringify(f.logs));
    } finally {
      await mc.start();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Tabs died with memcached (they live nowhere else); the rest is whole.
    assert.deepEqual(await payloads(f, user, 'clients'), ['c=v0']);
    await f.storage.setItems(user, 'clients', [{ id: 'c', payload: 'v1' }]);
    await assert.rejects(f.storage.getItems(user, 'tabs'));
    const t2 = await f.storage.setItems(user, 'tabs', [{ id: 't', payload: 'z' }]);
    assert.equal(await f.storage.getStorageTimestamp(user), t2);
    await payloads(f, user, 'clients'); // refills the copy
    f.db.calls.length = 0;
    assert.deepEqual(await payloads(f, user, 'clients'), ['c=v1']);
    assert.deepEqual(f.db.calls, [], 'cache hits again');
    await f.storage.close();
  });
});
