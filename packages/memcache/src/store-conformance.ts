/**
 * The shared conformance suite of the `CacheStore` interface, exported as
 * `@syncstorage-ts/memcache/conformance` so a third-party store can run it
 * (under `node --test`; it uses only node:test and node:assert). Every
 * implementation registers it from a short spec file:
 *
 *   import { registerStoreConformance } from '@syncstorage-ts/memcache/conformance';
 *   registerStoreConformance({
 *     name: 'MemcachedClient',
 *     createStore: async () => { const c = new MemcachedClient(…); await c.flush(); return c; },
 *   });
 *
 * `createStore` is called before every test and must return an empty store;
 * the suite closes it after the test. Capabilities change what runs:
 *
 * - `clock`: the store reads this fake clock. TTL tests move it instead of
 *   sleeping, and the to-the-millisecond boundary tests run. Without it
 *   (a real memcached, whose clock ticks once a second) the few expiry tests
 *   sleep about two seconds, and the boundary tests are skipped.
 * - `maxValueSize`: the item size limit the store was created with.
 *
 * The lease/invalidate expectations were taken from memcached 1.6.18 itself
 * (raw meta commands against `memcached -U 0`), as noted on each test:
 *   mg k N30 v c t   (miss)           → VA 0 c1 t30 W      the one winner
 *   mg k N30 v c t   (again)          → VA 0 c1 t30 Z      someone else is on it
 *   ms k 3 C1 …                       → HD                 winner writes back
 *   md k I T30; mg k v c t            → VA 3 c3 t30 X W    stale, first reader wins
 *   mg k v c t       (again)          → VA 3 c3 t30 Z X
 *   ms k … T10; mg k v c t R31        → … W (R wins when TTL left < R, strictly)
 *   ms ph … ME       (over a placeholder) → NS
 */
import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { CacheKey, CacheStore } from './cache-store.js';
import { CacheClosedError, CacheInputError, ValueTooLargeError } from './errors.js';

/** A clock the test moves by hand (milliseconds since the epoch). */
export interface FakeClock {
  now(): number;
  advance(ms: number): void;
}

/** The `FakeClock` to hand to a store's `now` option. */
export class ManualClock implements FakeClock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  readonly now = (): number => this.current;
  advance(ms: number): void {
    this.current += ms;
  }
}

export interface StoreCapabilities {
  /** The store reads this clock (see the file comment). */
  clock?: FakeClock;
  /** The item size limit the store was created with. Default 1 MiB. */
  maxValueSize?: number;
}

export interface StoreConformanceOptions {
  name: string;
  /** A fresh, empty store; called before every test, closed after it. */
  createStore: () => Promise<CacheStore>;
  capabilities?: StoreCapabilities;
}

const THIRTY_DAYS = 2_592_000;

export function registerStoreConformance(options: StoreConformanceOptions): void {
  const { clock, maxValueSize = 1024 * 1024 } = options.capabilities ?? {};
  let store: CacheStore;

  /** Lets `seconds` pass: the fake clock moves, or the test really waits. */
  async function elapse(seconds: number): Promise<void> {
    if (clock) clock.advance(seconds * 1000);
    else await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  }
  /** The store's "now" in Unix seconds, for absolute TTLs. */
  const nowSeconds = (): number => Math.floor((clock ? clock.now() : Date.now()) / 1000);
  const withClock = clock ? {} : { skip: 'needs a fake clock (capabilities.clock)' };

  describe(`CacheStore conformance: ${options.name}`, () => {
    beforeEach(async () => {
      store = await options.createStore();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('get / set', () => {
      test('a miss is undefined; a stored null comes back as null', async () => {
        assert.equal(await store.get('missing'), undefined);
        assert.equal(await store.set('null', null), true);
        assert.equal(await store.get('null'), null);
        assert.deepEqual(await store.gets('missing'), undefined);
      });

      test('values of every kind round-trip with their type', async () => {
        const values: Array<[string, unknown]> = [
          ['empty string', ''],
          ['string', 'héllo wörld ✓'],
          ['numeric string', '123'],
          ['json-looking string', '{"a":1}'],
          ['zero', 0],
          ['negative float', -1.5],
          ['large number', 1e300],
          ['true', true],
          ['false', false],
          ['null', null],
          ['empty array', []],
          ['array', [1, 'a', null, { b: [true] }]],
          ['object', { a: 1, nested: { list: [1, 2], s: 'x' }, n: null }],
          ['empty buffer', Buffer.alloc(0)],
          ['binary buffer', Buffer.from([0, 1, 2, 13, 10, 255, 128])],
        ];
        for (const [name, value] of values) {
          assert.equal(await store.set(`v:${name}`, value), true, name);
        }
        for (const [name, value] of values) {
          const got = await store.get(`v:${name}`);
          assert.deepEqual(got, value, name);
          assert.equal(Buffer.isBuffer(got), Buffer.isBuffer(value), `${name}: Buffer-ness`);
          assert.equal(typeof got, typeof value, `${name}: type`);
        }
      });

      test('a Uint8Array is stored as bytes and comes back as a Buffer', async () => {
        await store.set('u8', new Uint8Array([1, 2, 3]).subarray(1));
        assert.deepEqual(await store.get('u8'), Buffer.from([2, 3]));
      });

      test('set overwrites; the store keeps a copy, not the caller’s object', async () => {
        const value = { list: [1, 2] };
        const buffer = Buffer.from('abc');
        await store.set('obj', value);
        await store.set('buf', buffer);
        value.list.push(3);
        buffer[0] = 0x7a;
        assert.deepEqual(await store.get('obj'), { list: [1, 2] });
        assert.deepEqual(await store.get('buf'), Buffer.from('abc'));
        const got = (await store.get<{ list: number[] }>('obj'))!;
        got.list.push(4);
        assert.deepEqual(await store.get('obj'), { list: [1, 2] });
        await store.set('obj', 'second');
        assert.equal(await store.get('obj'), 'second');
      });

      test('a value that cannot be serialized is a CacheInputError', async () => {
        await assert.rejects(store.set('u', undefined), CacheInputError);
        await assert.rejects(
          store.set('f', () => 1),
          CacheInputError,
        );
        assert.equal(await store.get('u'), undefined);
      });

      test('a value over the item size limit is a ValueTooLargeError and stores nothing', async () => {
        await store.set('big', 'before');
        const tooBig = Buffer.alloc(maxValueSize + 1, 0x61);
        await assert.rejects(store.set('big', tooBig), (error: unknown) => {
          assert.ok(error instanceof ValueTooLargeError);
          assert.equal(error.limit, maxValueSize);
          return true;
        });
        await assert.rejects(store.add('big2', tooBig), ValueTooLargeError);
        await assert.rejects(store.replace('big', tooBig), ValueTooLargeError);
        await assert.rejects(store.set('big3', 'x'.repeat(maxValueSize + 1)), ValueTooLargeError);
        assert.equal(await store.get('big'), 'before');
        assert.equal(await store.get('big2'), undefined);
        const half = Buffer.alloc(Math.floor(maxValueSize / 2), 0x62);
        await store.set('half', half);
        assert.deepEqual(await store.get('half'), half);
      });
    });

    describe('keys', () => {
      test('keys memcached would refuse are distinct and round-trip', async () => {
        const keys: CacheKey[] = [
          'plain',
          'a b',
          'a_b',
          'a\tb',
          'a\nb',
          'a\r\nb',
          'a\0b',
          'ключ',
          '🔑',
          'k'.repeat(250),
          'k'.repeat(299) + 'a',
          'k'.repeat(299) + 'b',
          'x'.repeat(1000),
          Buffer.from([0xff, 0xfe, 0x00, 0x20]),
          Buffer.from([0xff, 0xfe, 0x00, 0x21]),
        ];
        for (const [i, key] of keys.entries()) await store.set(key, i);
        for (const [i, key] of keys.entries()) assert.equal(await store.get(key), i, String(i));
        assert.deepEqual(
          await store.getMulti(keys),
          keys.map((_, i) => i),
        );
      });

      test('a string key and the Buffer of its UTF-8 bytes are the same key', async () => {
        await store.set('schlüssel', 'v');
        assert.equal(await store.get(Buffer.from('schlüssel', 'utf8')), 'v');
        // …while a Buffer of other bytes that look alike is not.
        assert.equal(await store.get(Buffer.from('schlüssel', 'latin1')), undefined);
      });

      test('a key cannot inject commands', async () => {
        const evil = 'x 0 0 1\r\nP\r\nset y 0 0 1\r\nQ\r\nmg z';
        assert.equal(await store.set(evil, 'v'), true);
        assert.equal(await store.get(evil), 'v');
        assert.equal(await store.get('y'), undefined);
        assert.equal(await store.get('x'), undefined);
        assert.equal(await store.get('z'), undefined);
      });
    });

    describe('getMulti', () => {
      test('results are aligned with the keys, with duplicates and misses', async () => {
        await store.set('a', 'A');
        await store.set('b', { b: 1 });
        await store.set('n', null);
        assert.deepEqual(await store.getMulti(['a', 'missing', 'a', 'b', 'n', 'missing2']), [
          'A',
          undefined,
          'A',
          { b: 1 },
          null,
          undefined,
        ]);
        assert.deepEqual(await store.getMulti([]), []);
      });

      test('a large batch stays aligned', async () => {
        const keys = Array.from({ length: 300 }, (_, i) => `batch:${i}`);
        for (const [i, key] of keys.entries()) if (i % 3 !== 0) await store.set(key, i);
        const got = await store.getMulti(keys);
        assert.deepEqual(
          got,
          keys.map((_, i) => (i % 3 !== 0 ? i : undefined)),
        );
      });
    });

    describe('add / replace / cas', () => {
      test('add stores only when absent', async () => {
        assert.equal(await store.add('k', 1), true);
        assert.equal(await store.add('k', 2), false);
        assert.equal(await store.get('k'), 1);
      });

      test('replace stores only when present', async () => {
        assert.equal(await store.replace('k', 1), false);
        assert.equal(await store.get('k'), undefined);
        await store.set('k', 1);
        assert.equal(await store.replace('k', 2), true);
        assert.equal(await store.get('k'), 2);
      });

      test('cas succeeds with the current token only', async () => {
        assert.equal(await store.cas('k', 1, 1n), false, 'missing key');
        assert.equal(await store.get('k'), undefined);
        await store.set('k', 'v1');
        const first = (await store.gets('k'))!;
        assert.equal(typeof first.cas, 'bigint');
        assert.equal(first.value, 'v1');
        await store.set('k', 'v2');
        assert.equal(await store.cas('k', 'lost', first.cas), false, 'stale token');
        assert.equal(await store.get('k'), 'v2');
        const second = (await store.gets('k'))!;
        assert.equal(await store.cas('k', 'v3', second.cas), true);
        assert.equal(await store.get('k'), 'v3');
        assert.equal(await store.cas('k', 'again', second.cas), false, 'token used up');
      });

      test('every write makes a new CAS token; reads and touch do not', async () => {
        const cas = async (key: string): Promise<bigint> => (await store.gets(key))!.cas;
        const seen = new Set<bigint>();
        const expectNew = async (what: string): Promise<void> => {
          const token = await cas('k');
          assert.ok(!seen.has(token), `${what} must change the CAS`);
          seen.add(token);
        };
        await store.add('k', '1');
        await expectNew('add');
        await store.set('k', '2');
        await expectNew('set');
        await store.replace('k', '3');
        await expectNew('replace');
        await store.append('k', '0');
        await expectNew('append');
        await store.prepend('k', '1');
        await expectNew('prepend');
        await store.incr('k', 1);
        await expectNew('incr');
        await store.decr('k', 1);
        await expectNew('decr');
        await store.cas('k', '5', await cas('k'));
        await expectNew('cas');
        await store.invalidate('k', 30);
        await expectNew('invalidate');
        await store.set('k', 'fresh');
        const before = await cas('k');
        await store.get('k');
        await store.touch('k', 100);
        await store.getAndTouch('k', 200);
        assert.equal(await cas('k'), before, 'get/touch/getAndTouch keep the CAS');
        await store.set('other', 'x');
        assert.notEqual(await cas('other'), before, 'tokens are unique across keys');
      });
    });

    describe('append / prepend', () => {
      test('work on the raw bytes and keep the value’s type', async () => {
        assert.equal(await store.append('missing', 'x'), false);
        assert.equal(await store.prepend('missing', 'x'), false);
        assert.equal(await store.get('missing'), undefined);
        await store.set('s', 'b');
        assert.equal(await store.append('s', 'c'), true);
        assert.equal(await store.prepend('s', 'a'), true);
        assert.equal(await store.get('s'), 'abc');
        await store.set('buf', Buffer.from([2]));
        await store.append('buf', Buffer.from([3, 0]));
        await store.prepend('buf', Buffer.from([1]));
        assert.deepEqual(await store.get('buf'), Buffer.from([1, 2, 3, 0]));
        await store.append('s', Buffer.from('ü', 'utf8'));
        assert.equal(await store.get('s'), 'abcü');
      });
    });

    describe('delete', () => {
      test('delete removes; a missing key or a wrong cas resolves false', async () => {
        assert.equal(await store.delete('k'), false);
        await store.set('k', 1);
        const { cas } = (await store.gets('k'))!;
        await store.set('k', 2);
        assert.equal(await store.delete('k', { cas }), false, 'stale cas');
        assert.equal(await store.get('k'), 2);
        const current = (await store.gets('k'))!.cas;
        assert.equal(await store.delete('k', { cas: current }), true);
        assert.equal(await store.get('k'), undefined);
        assert.equal(await store.delete('k'), false);
        await store.set('k', 3);
        assert.equal(await store.delete('k'), true);
        assert.equal(await store.get('k'), undefined);
      });
    });

    describe('incr / decr', () => {
      test('a miss without initial is undefined and creates nothing', async () => {
        assert.equal(await store.incr('c'), undefined);
        assert.equal(await store.decr('c', 3), undefined);
        assert.equal(await store.get('c'), undefined);
      });

      test('initial creates the counter with that value, no delta applied', async () => {
        assert.equal(await store.incr('c', 5, { initial: 10 }), 10);
        assert.equal(await store.incr('c', 5, { initial: 10 }), 15);
        // memcached creates the counter itself, with client flags 0: raw bytes.
        assert.deepEqual(await store.get('c'), Buffer.from('15'));
        assert.equal(await store.decr('d', 5, { initial: 3 }), 3);
        assert.equal(await store.decr('d', 1), 2);
      });

      test('counters over numbers and decimal strings keep their type', async () => {
        await store.set('n', 41);
        assert.equal(await store.incr('n'), 42);
        assert.equal(await store.get('n'), 42);
        await store.set('s', '41');
        assert.equal(await store.incr('s', 100), 141);
        assert.equal(await store.get('s'), '141');
        assert.equal(await store.decr('s', 41), 100);
        assert.equal(await store.get('s'), '100');
      });

      test('decr stops at 0; incr wraps at 2^64', async () => {
        await store.set('c', '5');
        assert.equal(await store.decr('c', 10), 0);
        assert.equal(await store.decr('c', 1), 0);
        await store.set('max', '18446744073709551615');
        assert.equal(await store.incr('max', 1), 0);
        await store.set('max', '18446744073709551615');
        assert.equal(await store.incr('max', 2), 1);
      });

      test('a decr that shortens the number pads it with spaces in place (memcached)', async () => {
        // memcached 1.6.18: ms n 2 / 10, ma n MD → 9, mg n v → "9 ".
        await store.set('n', '10');
        assert.equal(await store.decr('n'), 9);
        assert.equal(await store.get('n'), '9 ');
        assert.equal(await store.incr('n'), 10);
        assert.equal(await store.get('n'), '10');
        await store.set('j', 100);
        assert.equal(await store.decr('j', 95), 5);
        assert.equal(await store.get('j'), 5, 'a JSON number still reads as a number');
      });

      test('non-numeric values and bad deltas are CacheInputError', async () => {
        await store.set('word', 'abc');
        await store.set('obj', { a: 1 });
        await store.set('neg', '-1');
        await store.set('empty', '');
        for (const key of ['word', 'obj', 'neg', 'empty']) {
          await assert.rejects(store.incr(key), CacheInputError, key);
          await assert.rejects(store.decr(key), CacheInputError, key);
        }
        assert.equal(await store.get('word'), 'abc');
        await store.set('c', '1');
        await assert.rejects(store.incr('c', -1), CacheInputError);
        await assert.rejects(store.incr('c', 1.5), CacheInputError);
        await assert.rejects(store.incr('c', 1, { initial: -1 }), CacheInputError);
        assert.equal(await store.get('c'), '1');
      });
    });

    describe('touch / getAndTouch', () => {
      test('touch and getAndTouch report misses', async () => {
        assert.equal(await store.touch('missing', 10), false);
        assert.equal(await store.getAndTouch('missing', 10), undefined);
        await store.set('k', { v: 1 });
        assert.equal(await store.touch('k', 10), true);
        assert.deepEqual(await store.getAndTouch('k', 10), { v: 1 });
      });
    });

    describe('TTL', () => {
      test('a negative or fractional TTL is a CacheInputError everywhere', async () => {
        await store.set('k', 1);
        const { cas } = (await store.gets('k'))!;
        await assert.rejects(store.set('k', 2, { ttl: -1 }), CacheInputError);
        await assert.rejects(store.add('new', 2, { ttl: -1 }), CacheInputError);
        await assert.rejects(store.replace('k', 2, { ttl: -5 }), CacheInputError);
        await assert.rejects(store.cas('k', 2, cas, { ttl: -1 }), CacheInputError);
        await assert.rejects(store.touch('k', -1), CacheInputError);
        await assert.rejects(store.getAndTouch('k', -1), CacheInputError);
        await assert.rejects(store.incr('n', 1, { initial: 0, ttl: -1 }), CacheInputError);
        await assert.rejects(store.lease('l', { vivifyTtl: -1 }), CacheInputError);
        await assert.rejects(store.invalidate('k', -1), CacheInputError);
        await assert.rejects(store.set('k', 2, { ttl: 1.5 }), CacheInputError);
        assert.equal(await store.get('k'), 1);
        assert.equal(await store.get('new'), undefined);
      });

      test('an absolute time in the past expires the item at once', async () => {
        assert.equal(await store.set('epoch', 1, { ttl: THIRTY_DAYS + 1 }), true);
        assert.equal(await store.get('epoch'), undefined);
        await store.set('recent', 1, { ttl: nowSeconds() - 10 });
        assert.equal(await store.get('recent'), undefined);
        await store.set('k', 1);
        assert.equal(await store.touch('k', nowSeconds() - 10), true);
        assert.equal(await store.get('k'), undefined);
      });

      test('TTL 0 never expires; 30 days is relative; beyond is an absolute time', async () => {
        await store.set('forever', 1, { ttl: 0 });
        await store.set('month', 1, { ttl: THIRTY_DAYS });
        await store.set('abs', 1, { ttl: nowSeconds() + 3600 });
        const forever = await store.lease('forever', { vivifyTtl: 30 });
        assert.equal(forever.ttlRemaining, -1);
        const month = (await store.lease('month', { vivifyTtl: 30 })).ttlRemaining!;
        assert.ok(month >= THIRTY_DAYS - 2 && month <= THIRTY_DAYS, `month: ${month}`);
        const abs = (await store.lease('abs', { vivifyTtl: 30 })).ttlRemaining!;
        assert.ok(abs >= 3598 && abs <= 3601, `absolute: ${abs}`);
      });

      test('time passing expires items, placeholders and grace windows', async () => {
        // One wait for every expiry rule, so a real server sleeps only once.
        await store.set('short', 's', { ttl: 1 });
        await store.set('forever', 'f');
        await store.set('long', 'l', { ttl: 100 });
        await store.set('abs', 'a', { ttl: nowSeconds() + 3600 });
        await store.set('touched-down', 't');
        await store.touch('touched-down', 1);
        await store.set('touched-up', 'u', { ttl: 1 });
        await store.touch('touched-up', 100);
        await store.set('gat', 'g', { ttl: 1 });
        assert.equal(await store.getAndTouch('gat', 100), 'g');
        await store.set('stale', 'old');
        await store.invalidate('stale', 1);
        assert.equal(await store.incr('counter', 1, { initial: 7, ttl: 1 }), 7);
        const dead = await store.lease('dead-winner', { vivifyTtl: 1 });
        assert.equal(dead.win, true);
        assert.equal(await store.get('short'), 's');

        await elapse(2.1);

        assert.equal(await store.get('short'), undefined);
        assert.equal(await store.get('forever'), 'f');
        assert.equal(await store.get('long'), 'l');
        assert.equal(await store.get('abs'), 'a');
        assert.equal(await store.get('touched-down'), undefined);
        assert.equal(await store.get('touched-up'), 'u');
        assert.equal(await store.get('gat'), 'g');
        assert.equal(await store.get('stale'), undefined);
        assert.equal(await store.incr('counter'), undefined);
        // The winner never wrote back: the placeholder expired and frees the key.
        const next = await store.lease('dead-winner', { vivifyTtl: 30 });
        assert.equal(next.win, true);
        assert.equal(await store.add('short', 'again'), true);
      });

      test('expiry is exact to the millisecond of the store’s clock', withClock, async () => {
        await store.set('k', 1, { ttl: 10 });
        clock!.advance(9_999);
        assert.equal(await store.get('k'), 1);
        assert.equal((await store.lease('k', { vivifyTtl: 5 })).ttlRemaining, 1);
        clock!.advance(1);
        assert.equal(await store.get('k'), undefined);
        await store.set('abs', 1, { ttl: nowSeconds() + 20 });
        clock!.advance(19_000);
        assert.equal(await store.get('abs'), 1);
        clock!.advance(1_000);
        assert.equal(await store.get('abs'), undefined);
      });

      test('a TTL of exactly 30 days is still relative', withClock, async () => {
        await store.set('k', 1, { ttl: THIRTY_DAYS });
        assert.equal((await store.lease('k', { vivifyTtl: 5 })).ttlRemaining, THIRTY_DAYS);
        clock!.advance((THIRTY_DAYS - 1) * 1000);
        assert.equal(await store.get('k'), 1);
        clock!.advance(1000);
        assert.equal(await store.get('k'), undefined);
      });
    });

    describe('lease (mg N/R) and invalidate (md I)', () => {
      test('exactly one of many concurrent leases on a missing key wins', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.lease('hot', { vivifyTtl: 30 })),
        );
        const winners = results.filter((r) => r.win);
        assert.equal(winners.length, 1);
        const winner = winners[0]!;
        // memcached 1.6.18: `mg hot N30 v f c t` on a miss → `VA 0 f0 c<n> t30 W`.
        assert.deepEqual(
          { ...winner, cas: typeof winner.cas },
          {
            value: undefined,
            cas: 'bigint',
            win: true,
            stale: false,
            winnerPending: false,
            ttlRemaining: 30,
          },
        );
        for (const other of results.filter((r) => !r.win)) {
          assert.equal(other.value, undefined);
          assert.equal(other.winnerPending, true);
          assert.equal(other.stale, false);
          assert.equal(other.cas, winner.cas);
          assert.ok(other.ttlRemaining! > 0 && other.ttlRemaining! <= 30);
        }
      });

      test('the placeholder is no value, but it is an item', async () => {
        const { cas } = await store.lease('p', { vivifyTtl: 30 });
        assert.equal(await store.get('p'), undefined);
        assert.equal(await store.gets('p'), undefined);
        assert.deepEqual(await store.getMulti(['p']), [undefined]);
        assert.equal(await store.add('p', 'x'), false, 'memcached: ms p … ME → NS');
        const again = await store.lease('p', { vivifyTtl: 30 });
        assert.equal(again.win, false);
        assert.equal(again.winnerPending, true);
        assert.equal(again.cas, cas, 'the failed add changed nothing');
      });

      test('the winner writes back with cas; then everyone gets the value', async () => {
        const won = await store.lease('k', { vivifyTtl: 30 });
        assert.equal(await store.cas('k', { computed: 1 }, won.cas!, { ttl: 100 }), true);
        const after = await store.lease('k', { vivifyTtl: 30 });
        assert.equal(after.win, false);
        assert.equal(after.winnerPending, false);
        assert.equal(after.stale, false);
        assert.deepEqual(after.value, { computed: 1 });
        assert.ok(after.ttlRemaining! >= 99 && after.ttlRemaining! <= 100);
        assert.deepEqual(await store.get('k'), { computed: 1 });
      });

      test('a write during the recompute beats the winner’s cas', async () => {
        const won = await store.lease('k', { vivifyTtl: 30 });
        await store.set('k', 'newer');
        assert.equal(await store.cas('k', 'older', won.cas!), false);
        assert.equal(await store.get('k'), 'newer');
      });

      test('invalidate serves the stale value with one new winner', async () => {
        assert.equal(await store.invalidate('missing', 30), false);
        assert.equal(await store.get('missing'), undefined);
        await store.set('k', 'old');
        const before = (await store.gets('k'))!.cas;
        assert.equal(await store.invalidate('k', 30), true);
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.lease('k', { vivifyTtl: 30 })),
        );
        assert.equal(results.filter((r) => r.win).length, 1);
        for (const r of results) {
          assert.equal(r.value, 'old');
          assert.equal(r.stale, true);
          assert.equal(r.winnerPending, !r.win);
          assert.notEqual(r.cas, before, 'md … I gives the item a new CAS');
          assert.ok(r.ttlRemaining! > 0 && r.ttlRemaining! <= 30, `ttl ${r.ttlRemaining}`);
        }
        const winner = results.find((r) => r.win)!;
        assert.equal(await store.cas('k', 'old', before), false, 'pre-invalidate token is dead');
        assert.equal(await store.cas('k', 'new', winner.cas!), true);
        const fresh = await store.lease('k', { vivifyTtl: 30 });
        assert.deepEqual(
          { value: fresh.value, win: fresh.win, stale: fresh.stale, pending: fresh.winnerPending },
          { value: 'new', win: false, stale: false, pending: false },
        );
        assert.equal(fresh.ttlRemaining, -1, 'the cas without ttl stored with TTL 0');
      });

      test('a plain get of a stale item takes the recompute token, as mg does', async () => {
        // memcached 1.6.18: md s I; mg s v → VA … X W; mg s v → VA … Z X.
        await store.set('k', 'old');
        await store.invalidate('k', 30);
        assert.equal(await store.get('k'), 'old');
        const lease = await store.lease('k', { vivifyTtl: 30 });
        assert.equal(lease.value, 'old');
        assert.equal(lease.stale, true);
        assert.equal(lease.win, false);
        assert.equal(lease.winnerPending, true);
      });

      test('invalidating again hands the token out again', async () => {
        await store.set('k', 'v');
        await store.invalidate('k', 30);
        const first = await store.lease('k', { vivifyTtl: 30 });
        assert.equal(first.win, true);
        await store.invalidate('k', 30);
        const second = await store.lease('k', { vivifyTtl: 30 });
        assert.equal(second.win, true);
        assert.notEqual(second.cas, first.cas);
        assert.equal(await store.cas('k', 'late', first.cas!), false);
        assert.equal(await store.cas('k', 'v2', second.cas!), true);
      });

      test('invalidate replaces the TTL; 0 means never', async () => {
        await store.set('a', 'v', { ttl: 1000 });
        await store.invalidate('a', 0);
        assert.equal((await store.lease('a', { vivifyTtl: 30 })).ttlRemaining, -1);
        await store.set('b', 'v');
        await store.invalidate('b', 50);
        const ttl = (await store.lease('b', { vivifyTtl: 30 })).ttlRemaining!;
        assert.ok(ttl >= 49 && ttl <= 50, `ttl ${ttl}`);
      });

      test('recacheThreshold: one early winner when the TTL left is below it', async () => {
        await store.set('soon', 'v', { ttl: 10 });
        const first = await store.lease('soon', { vivifyTtl: 30, recacheThreshold: 100 });
        assert.deepEqual(
          [first.value, first.win, first.stale, first.winnerPending],
          ['v', true, false, false],
        );
        const second = await store.lease('soon', { vivifyTtl: 30, recacheThreshold: 100 });
        assert.deepEqual([second.value, second.win, second.winnerPending], ['v', false, true]);
        const plain = await store.lease('soon', { vivifyTtl: 30 });
        assert.equal(plain.winnerPending, true, 'after a W every reader sees Z');
        assert.equal(await store.cas('soon', 'v2', first.cas!, { ttl: 1000 }), true);
        const fresh = await store.lease('soon', { vivifyTtl: 30, recacheThreshold: 100 });
        assert.deepEqual([fresh.value, fresh.win, fresh.winnerPending], ['v2', false, false]);

        await store.set('forever', 'v');
        const never = await store.lease('forever', { vivifyTtl: 30, recacheThreshold: 1e6 });
        assert.equal(never.win, false, 'an item without TTL never needs recaching');
        assert.equal(never.winnerPending, false);
      });

      test('a stored empty Buffer is a value to a lease too, not a placeholder', async () => {
        await store.set('e', Buffer.alloc(0), { ttl: 10 });
        // TTL left under the threshold: this lease wins the recompute (W), the next is told a winner is pending (Z).
        const winner = await store.lease('e', { vivifyTtl: 5, recacheThreshold: 30 });
        assert.equal(winner.win, true);
        assert.deepEqual(winner.value, Buffer.alloc(0));
        const other = await store.lease('e', { vivifyTtl: 5, recacheThreshold: 30 });
        assert.equal(other.winnerPending, true);
        assert.deepEqual(other.value, Buffer.alloc(0));
        assert.deepEqual(await store.get('e'), Buffer.alloc(0));
      });

      test('recacheThreshold compares strictly: TTL left < threshold', withClock, async () => {
        // memcached 1.6.18: ms b … T30; mg b R30 → no W; mg b R31 → W.
        await store.set('k', 'v', { ttl: 30 });
        const equal = await store.lease('k', { vivifyTtl: 5, recacheThreshold: 30 });
        assert.equal(equal.win, false);
        const above = await store.lease('k', { vivifyTtl: 5, recacheThreshold: 31 });
        assert.equal(above.win, true);
        // Time left counts in whole seconds, rounded up, as memcached's `t`.
        await store.set('j', 'v', { ttl: 30 });
        clock!.advance(20_000);
        const exactlyTen = await store.lease('j', { vivifyTtl: 5, recacheThreshold: 10 });
        assert.deepEqual([exactlyTen.ttlRemaining, exactlyTen.win], [10, false]);
        clock!.advance(1);
        const almostTen = await store.lease('j', { vivifyTtl: 5, recacheThreshold: 10 });
        assert.deepEqual([almostTen.ttlRemaining, almostTen.win], [10, false]);
        clock!.advance(999);
        const win = await store.lease('j', { vivifyTtl: 5, recacheThreshold: 10 });
        assert.deepEqual([win.ttlRemaining, win.win], [9, true]);
      });
    });

    describe('flush', () => {
      test('flush removes everything; the store works after it', async () => {
        await store.set('a', 1);
        await store.set('b', 2);
        await store.flush();
        assert.deepEqual(await store.getMulti(['a', 'b']), [undefined, undefined]);
        await store.set('a', 3);
        assert.equal(await store.get('a'), 3);
      });

      test('flush with a delay leaves items readable until then', async () => {
        await store.set('a', 1);
        await store.flush(5);
        assert.equal(await store.get('a'), 1);
        await store.flush(); // also cancels the pending flush on a shared server
        assert.equal(await store.get('a'), undefined);
      });

      test('a delayed flush removes items written before its deadline', withClock, async () => {
        await store.set('a', 1);
        await store.flush(5);
        clock!.advance(4_000);
        await store.set('b', 2);
        assert.deepEqual(await store.getMulti(['a', 'b']), [1, 2]);
        clock!.advance(1_000);
        assert.deepEqual(await store.getMulti(['a', 'b']), [undefined, undefined]);
        await store.set('c', 3);
        clock!.advance(10_000);
        assert.equal(await store.get('c'), 3);
      });
    });

    describe('stats / version / close', () => {
      test('stats: per server, string values, hits and misses counted', async () => {
        const sum = (stats: Record<string, Record<string, string>>, name: string): number =>
          Object.values(stats).reduce((total, server) => total + Number(server[name]), 0);
        const before = await store.stats();
        assert.ok(Object.keys(before).length >= 1);
        for (const server of Object.values(before)) {
          for (const name of ['curr_items', 'bytes', 'get_hits', 'get_misses', 'evictions']) {
            assert.match(server[name] ?? '', /^\d+$/, name);
          }
          for (const value of Object.values(server)) assert.equal(typeof value, 'string');
        }
        await store.set('k', 1);
        await store.get('k');
        await store.get('missing');
        const after = await store.stats();
        assert.equal(sum(after, 'get_hits') - sum(before, 'get_hits'), 1);
        assert.equal(sum(after, 'get_misses') - sum(before, 'get_misses'), 1);
        assert.ok(sum(after, 'curr_items') >= 1);
      });

      test('version: per server, a version string', async () => {
        const versions = await store.version();
        assert.ok(Object.keys(versions).length >= 1);
        for (const version of Object.values(versions)) assert.match(version, /^\d+\.\d+\.\d+/);
        assert.deepEqual(Object.keys(versions).sort(), Object.keys(await store.stats()).sort());
      });

      test('after close every call rejects with CacheClosedError; close again is fine', async () => {
        await store.set('k', 1);
        await store.close();
        const calls: Array<() => Promise<unknown>> = [
          () => store.get('k'),
          () => store.gets('k'),
          () => store.getMulti(['k']),
          () => store.set('k', 1),
          () => store.add('k', 1),
          () => store.replace('k', 1),
          () => store.append('k', 'x'),
          () => store.prepend('k', 'x'),
          () => store.cas('k', 1, 1n),
          () => store.delete('k'),
          () => store.incr('k'),
          () => store.decr('k'),
          () => store.touch('k', 1),
          () => store.getAndTouch('k', 1),
          () => store.lease('k', { vivifyTtl: 1 }),
          () => store.invalidate('k', 1),
          () => store.flush(),
          () => store.stats(),
          () => store.version(),
        ];
        for (const call of calls) await assert.rejects(call(), CacheClosedError, call.toString());
        await store.close();
      });
    });
  });
}
