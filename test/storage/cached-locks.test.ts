/**
 * Cache-level collection locks (seed 000 `_lock_in_memcache`): add-with-TTL
 * mutexes, re-entrant within one request, an error when the lock expired
 * while held; always for cache-only collections, for all with `cacheLocks`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheLockExpiredError } from '../../src/storage/cached/index.js';
import { ConflictError, StorageUnavailableError } from '../../src/storage/errors.js';
import { CacheTimeoutError } from '@syncstorage-ts/memcache';
import { cachedFixture, newUser } from './cached-setup.js';

describe('cached layer: cache locks', () => {
  test('a cache-only collection locks in the cache, never in the database', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const key = `${f.prefix}${user}:lock:tabs`;
    const seen = await f.storage.withWriteLock(user, 'tabs', async (tx) => {
      await tx.setItems(user, 'tabs', [{ id: 't', payload: 'x' }]);
      return f.raw.get(key);
    });
    assert.ok(seen !== undefined, 'the lock key exists while held');
    assert.equal(await f.raw.get(key), undefined, 'and is gone after');
    assert.ok(!f.db.calls.includes('withWriteLock'));
    await f.storage.close();
  });

  test('re-entrant within one request; another request waits its turn', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const events: string[] = [];
    const writer = (name: string) =>
      f.storage.withWriteLock(user, 'tabs', (tx) =>
        tx.withWriteLock(user, 'tabs', async () => {
          events.push(`${name}:in`);
          await tx.withReadLock(user, 'tabs', () => new Promise((r) => setTimeout(r, 50)));
          events.push(`${name}:out`);
        }),
      );
    await Promise.all([writer('a'), writer('b')]);
    assert.ok(
      ['a:in,a:out,b:in,b:out', 'b:in,b:out,a:in,a:out'].includes(events.join()),
      events.join(),
    );
    await f.storage.close();
  });

  test('a lock held elsewhere is a ConflictError after a short wait', async () => {
    const f = await cachedFixture();
    const user = newUser();
    await f.raw.add(`${f.prefix}${user}:lock:tabs`, '"someone"', { ttl: 60 });
    const started = Date.now();
    await assert.rejects(
      f.storage.withWriteLock(user, 'tabs', async () => 1),
      ConflictError,
    );
    assert.ok(Date.now() - started >= 900);
    await f.storage.close();
  });

  test('a lock that expired while held is an error', async () => {
    const f = await cachedFixture({ lockTtl: 1 });
    const user = newUser();
    await assert.rejects(
      f.storage.withWriteLock(user, 'tabs', async () => {
        f.clock.advance(1500);
      }),
      CacheLockExpiredError,
    );
    await f.storage.close();
  });

  test('seed bug: releasing does not delete a lock someone else took after ours expired', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const key = `${f.prefix}${user}:lock:tabs`;
    await f.storage.withWriteLock(user, 'tabs', async () => {
      await f.raw.set(key, '"the next holder"', { ttl: 60 });
    });
    assert.equal(await f.raw.get(key), '"the next holder"');
    await f.storage.close();
  });

  test('a release that times out is retried, so the lock is not orphaned for lockTtl', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const key = `${f.prefix}${user}:lock:tabs`;
    let failures = 1;
    f.chaos.rule((op, k) =>
      op === 'gets' && k === key && failures-- > 0
        ? new CacheTimeoutError('chaos: slow')
        : undefined,
    );
    await f.storage.withWriteLock(user, 'tabs', async () => undefined);
    assert.notEqual(await f.raw.get(key), undefined, 'the first release failed');
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(await f.raw.get(key), undefined, 'released by the retry');
    await f.storage.withWriteLock(user, 'tabs', async () => undefined);
    await f.storage.close();
  });

  test('an add whose answer was lost still holds the lock it stored', async () => {
    const f = await cachedFixture();
    const user = newUser();
    const key = `${f.prefix}${user}:lock:tabs`;
    // The add reaches the store and stores the token; then its answer is lost.
    const realAdd = f.raw.add.bind(f.raw);
    let lose = 1;
    f.raw.add = async (k, value, options) => {
      const stored = await realAdd(k, value, options);
      if (k === key && lose-- > 0) throw new CacheTimeoutError('chaos: answer lost');
      return stored;
    };
    const started = Date.now();
    let ran = false;
    await f.storage.withWriteLock(user, 'tabs', async () => {
      ran = true;
    });
    assert.ok(ran);
    assert.ok(Date.now() - started < 900, 'did not wait on its own lock');
    assert.equal(await f.raw.get(key), undefined, 'and released it');
    await f.storage.close();
  });

  test('cacheLocks: other collections lock in the cache too, and fall back to the database lock when it is down', async () => {
    const f = await cachedFixture({ cacheLocks: true });
    const user = newUser();
    await f.storage.withWriteLock(user, 'bookmarks', async (tx) => {
      await tx.setItems(user, 'bookmarks', [{ id: 'b', payload: 'b' }]);
    });
    assert.ok(!f.db.calls.includes('withWriteLock'), `${f.db.calls}`);
    f.chaos.down = true;
    // The lock falls back to the database; a write inside cannot be marked, so it is refused.
    await f.storage.withWriteLock(user, 'bookmarks', async (tx) => {
      assert.deepEqual((await tx.getItemIds(user, 'bookmarks')).items, ['b']);
      await assert.rejects(
        tx.setItems(user, 'bookmarks', [{ id: 'c', payload: 'c' }]),
        StorageUnavailableError,
      );
    });
    assert.ok(f.db.calls.includes('withWriteLock'));
    f.chaos.down = false;
    await f.storage.withWriteLock(user, 'bookmarks', async (tx) => {
      await tx.setItems(user, 'bookmarks', [{ id: 'c', payload: 'c' }]);
    });
    assert.deepEqual((await f.storage.getItemIds(user, 'bookmarks', { sort: 'oldest' })).items, [
      'b',
      'c',
    ]);
    await f.storage.close();
  });
});
