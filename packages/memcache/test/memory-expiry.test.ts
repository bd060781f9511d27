/**
 * Lazy expiry in the in-process store: no timer per key (Node timers
 * overflow past 24.8 days and would fire at once), items die when they are
 * next looked at, and long TTLs work.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../src/memory-store.js';
import { ManualClock } from '@syncstorage-ts/memcache/conformance';

const DAY = 24 * 60 * 60;

describe('MemoryStore expiry', () => {
  test('an item expires when it is next read, counted as get_expired', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ now: clock.now });
    await store.set('k', 'v', { ttl: 60 });
    clock.advance(60_000);
    const before = (await store.stats()).memory!;
    assert.equal(before.curr_items, '1', 'still held: nothing runs on a timer');
    assert.equal(await store.get('k'), undefined);
    const after = (await store.stats()).memory!;
    assert.equal(after.curr_items, '0');
    assert.equal(after.get_expired, '1');
    assert.equal(after.get_misses, '1');
  });

  test('a 40-day TTL (an absolute time) holds for 40 days, then ends', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ now: clock.now });
    const fortyDays = Math.floor(clock.now() / 1000) + 40 * DAY;
    await store.set('k', 'v', { ttl: fortyDays });
    clock.advance(39 * DAY * 1000);
    assert.equal(await store.get('k'), 'v');
    assert.equal((await store.lease('k', { vivifyTtl: 1 })).ttlRemaining, DAY);
    clock.advance(DAY * 1000);
    assert.equal(await store.get('k'), undefined);
  });

  test('timer-free: long TTLs on the real clock neither fire early nor warn', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    const realSetTimeout = globalThis.setTimeout;
    let timers = 0;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      timers++;
      return realSetTimeout(...args);
    }) as typeof setTimeout;
    try {
      const store = new MemoryStore();
      const now = Math.floor(Date.now() / 1000);
      await store.set('forty-days', 1, { ttl: now + 40 * DAY });
      await store.set('thirty-days', 2, { ttl: 30 * DAY });
      await store.lease('placeholder', { vivifyTtl: 30 * DAY });
      await store.set('gone', 3, { ttl: now - 1 });
      assert.equal(timers, 0, 'the store schedules no timers');
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    process.off('warning', onWarning);
    assert.deepEqual(warnings, []);
  });

  test('get returns a fresh copy every time', async () => {
    const store = new MemoryStore();
    await store.set('buf', Buffer.from('abc'));
    const first = (await store.get<Buffer>('buf'))!;
    first[0] = 0x7a;
    assert.deepEqual(await store.get('buf'), Buffer.from('abc'));
    await store.set('obj', { a: [1] });
    const [one, two] = await store.getMulti<{ a: number[] }>(['obj', 'obj']);
    assert.notEqual(one, two);
    one!.a.push(2);
    assert.deepEqual(two, { a: [1] });
  });
});
