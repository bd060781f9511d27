/**
 * The in-process store's byte budget: least recently used items go first,
 * reads and writes count as use, expired items are reclaimed before live
 * ones are evicted, and `stats()` says what happened.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../src/memory-store.js';
import { ITEM_OVERHEAD } from '../src/memory-item.js';
import { CacheInputError } from '../src/errors.js';
import { ManualClock } from '@syncstorage-ts/memcache/conformance';

// Keys "k0".."k9" (2 bytes) with 1000-byte values: each item costs this much.
const ITEM = 2 + 1000 + ITEM_OVERHEAD;
const value = (fill: string): Buffer => Buffer.alloc(1000, fill);

async function stat(store: MemoryStore, name: string): Promise<number> {
  return Number((await store.stats()).memory?.[name]);
}

describe('MemoryStore byte budget', () => {
  test('evicts the least recently written items once the budget is full', async () => {
    const store = new MemoryStore({ maxBytes: ITEM * 3, maxValueSize: 1000 });
    for (const i of [0, 1, 2]) await store.set(`k${i}`, value('a'));
    assert.equal(await stat(store, 'bytes'), ITEM * 3);
    await store.set('k3', value('b'));
    assert.deepEqual(
      (await store.getMulti(['k0', 'k1', 'k2', 'k3'])).map((v) => v !== undefined),
      [false, true, true, true],
    );
    assert.equal(await stat(store, 'evictions'), 1);
    assert.equal(await stat(store, 'curr_items'), 3);
    assert.equal(await stat(store, 'bytes'), ITEM * 3);
  });

  test('a read makes an item recent, so it survives', async () => {
    const store = new MemoryStore({ maxBytes: ITEM * 3, maxValueSize: 1000 });
    for (const i of [0, 1, 2]) await store.set(`k${i}`, value('a'));
    await store.get('k0'); // k1 is now the least recently used
    await store.set('k3', value('b'));
    assert.notEqual(await store.get('k0'), undefined);
    assert.equal(await store.get('k1'), undefined);
    // Recency now, oldest first: k2, k3, k0. A touch is use too: k2 moves last.
    await store.touch('k2', 100);
    await store.set('k4', value('c'));
    assert.equal(await store.get('k3'), undefined, 'k3 was the least recently used');
    assert.notEqual(await store.get('k2'), undefined);
  });

  test('one large item pushes out as many small ones as it needs', async () => {
    const store = new MemoryStore({ maxBytes: ITEM * 4, maxValueSize: 3000 });
    for (const i of [0, 1, 2, 3]) await store.set(`k${i}`, value('a'));
    await store.set('kb', Buffer.alloc(2500));
    assert.deepEqual(
      (await store.getMulti(['k0', 'k1', 'k2', 'k3', 'kb'])).map((v) => v !== undefined),
      [false, false, false, true, true],
    );
    assert.equal(await stat(store, 'evictions'), 3);
    assert.ok((await stat(store, 'bytes')) <= ITEM * 4);
  });

  test('expired items pushed out count as reclaimed, not evicted', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ maxBytes: ITEM * 2, maxValueSize: 1000, now: clock.now });
    await store.set('k0', value('a'), { ttl: 1 });
    await store.set('k1', value('a'));
    clock.advance(5_000);
    await store.set('k2', value('b'));
    assert.equal(await stat(store, 'reclaimed'), 1);
    assert.equal(await stat(store, 'evictions'), 0);
    assert.notEqual(await store.get('k1'), undefined);
  });

  test('growing an item by append counts against the budget', async () => {
    const store = new MemoryStore({ maxBytes: ITEM * 2 + 500, maxValueSize: 2000 });
    await store.set('k0', value('a'));
    await store.set('k1', value('a'));
    assert.equal(await store.append('k1', Buffer.alloc(900)), true);
    assert.equal(await store.get('k0'), undefined);
    assert.equal((await store.get<Buffer>('k1'))?.length, 1900);
  });

  test('options are checked once, naming the option', () => {
    assert.throws(() => new MemoryStore({ maxBytes: 0 }), /option maxBytes/);
    assert.throws(() => new MemoryStore({ maxValueSize: 1.5 }), CacheInputError);
    assert.throws(() => new MemoryStore({ maxBytes: 10, maxValueSize: 100 }), /maxValueSize/);
    const store = new MemoryStore({ maxBytes: undefined });
    return store.stats().then((stats) => {
      assert.equal(stats.memory?.limit_maxbytes, String(64 * 1024 * 1024));
      assert.equal(stats.memory?.item_size_max, String(1024 * 1024));
    });
  });
});
