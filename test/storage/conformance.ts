/**
 * The conformance suite of `SyncStorage`: every operation and edge of the
 * contract (src/storage/sync-storage.ts), run against every implementation
 * by a ~20-line spec:
 *
 *   registerSyncStorageConformance({
 *     name: 'sqlite (memory)',
 *     create: async ({ clock }) => ({ storage: await openSqlStorage({ url: 'sqlite::memory:', clock }) }),
 *     capabilities: { clock: true },
 *   });
 *
 * `create` is called once per test and gets a test clock; a backend that
 * honours it sets `capabilities.clock` and the ttl / batch-lifetime tests
 * run instantly (otherwise they sleep, and the 2-hour ones are skipped).
 * Each test uses user ids of its own, so a backend may share one database.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CollectionNotFoundError,
  InvalidBatchError,
  InvalidOffsetError,
  ItemNotFoundError,
  LockEscalationError,
  StorageInputError,
} from '../../src/storage/errors.js';
import type { BsoInput, SortOrder, SyncStorage } from '../../src/storage/sync-storage.js';
import { TestClock } from './support/test-clock.js';

export interface ConformanceCapabilities {
  /** The storage takes its time from `context.clock` (ttl tests need no sleeping). Default false. */
  clock?: boolean;
  /** A failing `withWriteLock` body rolls back its writes. Default true. */
  transactions?: boolean;
  /**
   * `getTotalSize` without `recalculate` is an exact running total of what
   * is stored (expired rows included until purged), not a cached estimate.
   * Default false.
   */
  runningTotal?: boolean;
}

export interface ConformanceContext {
  /** Milliseconds since the epoch: pass it to the storage as its clock. */
  clock: () => number;
}

export interface ConformanceOptions {
  name: string;
  create: (
    context: ConformanceContext,
  ) => Promise<{ storage: SyncStorage; cleanup?: () => Promise<void> }>;
  capabilities?: ConformanceCapabilities;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** User ids unique within the process, so tests never share a user. */
let nextUser = 1000 + Math.floor(Math.random() * 1_000_000) * 100;
function newUser(): number {
  return nextUser++;
}

function bsos(count: number, prefix = 'item', extra: Partial<BsoInput> = {}): BsoInput[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${String(i).padStart(4, '0')}`,
    payload: `payload of ${prefix}${i}`,
    ...extra,
  }));
}

export function registerSyncStorageConformance(options: ConformanceOptions): void {
  const caps = { clock: false, transactions: true, runningTotal: false, ...options.capabilities };

  /** One test with a fresh storage and test clock. */
  function it(
    name: string,
    body: (
      storage: SyncStorage,
      time: { clock: TestClock; pass: (ms: number) => Promise<void> },
    ) => Promise<void>,
    testOptions: { skip?: boolean | string } = {},
  ): void {
    test(name, testOptions, async () => {
      const clock = new TestClock();
      const { storage, cleanup } = await options.create({ clock: () => clock.now() });
      const pass = async (ms: number) => {
        if (caps.clock) clock.advance(ms);
        else await sleep(ms);
      };
      try {
        await body(storage, { clock, pass });
      } finally {
        await storage.close();
        await cleanup?.();
      }
    });
  }
  const needsClock = caps.clock ? {} : { skip: 'needs capabilities.clock' };

  describe(`SyncStorage conformance: ${options.name}`, () => {
    describe('whole storage', () => {
      it('a user without data has timestamp 0 and empty maps', async (s) => {
        const user = newUser();
        assert.equal(await s.getStorageTimestamp(user), 0);
        assert.deepEqual(await s.getCollectionTimestamps(user), {});
        assert.deepEqual(await s.getCollectionCounts(user), {});
        assert.deepEqual(await s.getCollectionSizes(user), {});
        assert.equal(await s.getTotalSize(user), 0);
        assert.equal(await s.getTotalSize(user, true), 0);
      });

      it('timestamps, counts and sizes per collection (sizes in UTF-8 bytes)', async (s) => {
        const user = newUser();
        const t1 = await s.setItems(user, 'bookmarks', [
          { id: 'a', payload: 'abc' },
          { id: 'b', payload: 'é' },
        ]);
        const t2 = await s.setItems(user, 'my-custom.coll_1', [{ id: 'x', payload: '12345' }]);
        assert.equal(t1 % 10, 0);
        assert.ok(t2 > t1);
        assert.deepEqual(await s.getCollectionTimestamps(user), {
          bookmarks: t1,
          'my-custom.coll_1': t2,
        });
        assert.equal(await s.getStorageTimestamp(user), t2);
        assert.deepEqual(await s.getCollectionCounts(user), {
          bookmarks: 2,
          'my-custom.coll_1': 1,
        });
        assert.deepEqual(await s.getCollectionSizes(user), { bookmarks: 5, 'my-custom.coll_1': 5 });
        assert.equal(await s.getTotalSize(user), 10);
        assert.equal(await s.getCollectionTimestamp(user, 'bookmarks'), t1);
      });

      it('a timestamp is a multiple of 10 ms near the current time', async (s, { clock }) => {
        const before = clock.now();
        const ts = await s.setItems(newUser(), 'tabs', [{ id: 'a', payload: 'x' }]);
        assert.equal(ts % 10, 0);
        assert.ok(ts >= Math.floor(before / 10) * 10 && ts <= clock.now() + 1000);
      });

      it('getTimestamps is the storage timestamp and the collection map, deleted collections included', async (s) => {
        const user = newUser();
        assert.deepEqual(await s.getTimestamps(user), { storage: 0, collections: {} });
        const t1 = await s.setItems(user, 'bookmarks', bsos(1));
        const t2 = await s.setItems(user, 'history', bsos(1));
        assert.deepEqual(await s.getTimestamps(user), {
          storage: t2,
          collections: { bookmarks: t1, history: t2 },
        });
        const deleted = await s.deleteCollection(user, 'history');
        const after = await s.getTimestamps(user);
        assert.deepEqual(after, { storage: deleted, collections: { bookmarks: t1 } });
        assert.deepEqual(after, {
          storage: await s.getStorageTimestamp(user),
          collections: await s.getCollectionTimestamps(user),
        });
        await s.deleteStorage(user);
        assert.deepEqual(await s.getTimestamps(user), { storage: 0, collections: {} });
      });

      it('getTimestamps never shows a collection newer than its storage timestamp, under concurrent writes', async (s) => {
        const user = newUser();
        await s.setItems(user, 'bookmarks', bsos(1));
        let writing = true;
        const writer = (async () => {
          for (let i = 0; i < 40; i++) {
            await s.setItems(user, i % 2 ? 'bookmarks' : 'history', [
              { id: `w${i}`, payload: 'x' },
            ]);
          }
          writing = false;
        })();
        let reads = 0;
        while (writing) {
          const { storage, collections } = await s.getTimestamps(user);
          for (const [name, ts] of Object.entries(collections)) {
            assert.ok(ts <= storage, `${name} at ${ts} after a storage timestamp of ${storage}`);
          }
          reads += 1;
        }
        await writer;
        assert.ok(reads > 0);
      });

      it('users do not see each other', async (s) => {
        const [alice, bob] = [newUser(), newUser()];
        await s.setItems(alice, 'history', [{ id: 'a', payload: 'secret' }]);
        assert.deepEqual(await s.getCollectionTimestamps(bob), {});
        await assert.rejects(s.getItems(bob, 'history'), CollectionNotFoundError);
        await assert.rejects(s.getItem(bob, 'history', 'a'), CollectionNotFoundError);
      });

      it('deleteStorage removes everything of the user only', async (s) => {
        const [user, other] = [newUser(), newUser()];
        await s.setItems(user, 'forms', bsos(3));
        await s.setItems(user, 'prefs', bsos(1));
        await s.setItems(other, 'forms', bsos(2));
        const batch = await s.createBatch(user, 'forms');
        await s.deleteStorage(user);
        assert.equal(await s.getStorageTimestamp(user), 0);
        assert.deepEqual(await s.getCollectionTimestamps(user), {});
        assert.deepEqual(await s.getCollectionCounts(user), {});
        assert.equal(await s.getTotalSize(user), 0);
        assert.equal(await s.validBatch(user, 'forms', batch), false);
        assert.deepEqual(await s.getCollectionCounts(other), { forms: 2 });
        // And the user can start again.
        const ts = await s.setItems(user, 'forms', bsos(1));
        assert.equal(await s.getStorageTimestamp(user), ts);
      });
    });

    describe('timestamps', () => {
      it('seed bug: writes in the same 10 ms get strictly increasing timestamps instead of ConflictError', async (s, {
        clock,
      }) => {
        const user = newUser();
        clock.freeze();
        const seen: number[] = [];
        for (let i = 0; i < 20; i++) {
          seen.push(await s.setItems(user, 'clients', [{ id: `c${i}`, payload: 'x' }]));
        }
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `${seen}`);
        assert.equal(await s.getCollectionTimestamp(user, 'clients'), seen.at(-1));
      });

      it('a write to another collection is later than the storage timestamp', async (s, {
        clock,
      }) => {
        const user = newUser();
        clock.freeze();
        const t1 = await s.setItems(user, 'bookmarks', bsos(1));
        const t2 = await s.setItems(user, 'history', bsos(1));
        const t3 = await s.setItem(user, 'bookmarks', 'z', { payload: 'p' });
        assert.ok(t2 > t1 && t3.modified > t2);
        assert.equal(await s.getStorageTimestamp(user), t3.modified);
      });

      it(
        'a clock that goes backwards never makes a timestamp go backwards',
        async (s, { clock }) => {
          const user = newUser();
          const t1 = await s.setItems(user, 'meta', bsos(1));
          clock.advance(-60_000);
          const t2 = await s.setItems(user, 'meta', bsos(1));
          assert.ok(t2 > t1);
        },
        needsClock,
      );
    });

    describe('items', () => {
      it('setItem creates, then updates; getItem returns the stored fields', async (s) => {
        const user = newUser();
        const first = await s.setItem(user, 'passwords', 'p1', { payload: 'one', sortindex: 5 });
        assert.equal(first.created, true);
        const bso = await s.getItem(user, 'passwords', 'p1');
        assert.equal(bso.id, 'p1');
        assert.equal(bso.payload, 'one');
        assert.equal(bso.sortindex, 5);
        assert.equal(bso.modified, first.modified);
        assert.ok(bso.expiry * 1000 > Date.now() + 1e9 * 1000 || bso.expiry >= 2_000_000_000);
        const second = await s.setItem(user, 'passwords', 'p1', { payload: 'two' });
        assert.equal(second.created, false);
        assert.ok(second.modified > first.modified);
        const updated = await s.getItem(user, 'passwords', 'p1');
        assert.equal(updated.payload, 'two');
        assert.equal(updated.sortindex, 5, 'sortindex kept when not sent');
        assert.equal(await s.getItemTimestamp(user, 'passwords', 'p1'), second.modified);
        assert.equal(await s.getCollectionTimestamp(user, 'passwords'), second.modified);
      });

      it('a sortindex-only or ttl-only update keeps the payload (and modified, as the seed)', async (s) => {
        const user = newUser();
        const { modified } = await s.setItem(user, 'tabs', 't', { payload: 'keep me' });
        const r1 = await s.setItem(user, 'tabs', 't', { sortindex: 42 });
        assert.equal(r1.created, false);
        const r2 = await s.setItem(user, 'tabs', 't', { ttl: 3600 });
        const bso = await s.getItem(user, 'tabs', 't');
        assert.equal(bso.payload, 'keep me');
        assert.equal(bso.sortindex, 42);
        assert.equal(bso.modified, modified);
        assert.ok(bso.expiry < 2_000_000_000 || bso.expiry <= Math.floor(Date.now() / 1000) + 3700);
        assert.equal(await s.getCollectionTimestamp(user, 'tabs'), r2.modified);
        assert.ok(r2.modified > r1.modified);
      });

      it('a new item without payload gets an empty payload; sortindex null clears it', async (s) => {
        const user = newUser();
        await s.setItems(user, 'prefs', [{ id: 'n', sortindex: 3 }]);
        assert.equal((await s.getItem(user, 'prefs', 'n')).payload, '');
        await s.setItem(user, 'prefs', 'n', { sortindex: null });
        assert.equal((await s.getItem(user, 'prefs', 'n')).sortindex, null);
      });

      it('setItems with a repeated id applies both, later fields winning', async (s) => {
        const user = newUser();
        await s.setItems(user, 'forms', [
          { id: 'd', payload: 'first', sortindex: 1 },
          { id: 'd', payload: 'second' },
        ]);
        const bso = await s.getItem(user, 'forms', 'd');
        assert.equal(bso.payload, 'second');
        assert.equal(bso.sortindex, 1);
      });

      it('getItem / getItemTimestamp / deleteItem of a missing item throw ItemNotFoundError', async (s) => {
        const user = newUser();
        await s.setItems(user, 'addons', bsos(1));
        await assert.rejects(s.getItem(user, 'addons', 'nope'), ItemNotFoundError);
        await assert.rejects(s.getItemTimestamp(user, 'addons', 'nope'), ItemNotFoundError);
        await assert.rejects(s.deleteItem(user, 'addons', 'nope'), ItemNotFoundError);
        await assert.rejects(s.getItemTimestamp(user, 'never-made', 'x'), ItemNotFoundError);
        await assert.rejects(s.deleteItem(user, 'never-made', 'x'), ItemNotFoundError);
        await assert.rejects(s.getItem(user, 'never-made', 'x'), CollectionNotFoundError);
      });

      it('deleteItem removes one item and moves the collection timestamp', async (s) => {
        const user = newUser();
        const t1 = await s.setItems(user, 'history', bsos(3));
        const t2 = await s.deleteItem(user, 'history', 'item0001');
        assert.ok(t2 > t1);
        assert.equal(await s.getCollectionTimestamp(user, 'history'), t2);
        assert.deepEqual((await s.getItemIds(user, 'history')).items.sort(), [
          'item0000',
          'item0002',
        ]);
        await assert.rejects(s.deleteItem(user, 'history', 'item0001'), ItemNotFoundError);
      });

      it('deleteItems removes the listed items; a missing collection throws', async (s) => {
        const user = newUser();
        const t1 = await s.setItems(user, 'history', bsos(5));
        const t2 = await s.deleteItems(user, 'history', ['item0000', 'item0003', 'absent']);
        assert.ok(t2 > t1);
        assert.deepEqual((await s.getItemIds(user, 'history', { sort: 'oldest' })).items.sort(), [
          'item0001',
          'item0002',
          'item0004',
        ]);
        await assert.rejects(s.deleteItems(user, 'never-made', ['a']), CollectionNotFoundError);
        // Another user's collection of that name does not make it ours.
        await assert.rejects(s.deleteItems(newUser(), 'history', ['a']), CollectionNotFoundError);
      });

      it('seed bug: deleteCollection moves the storage timestamp forward, not back to an older collection', async (s) => {
        const user = newUser();
        await s.setItems(user, 'bookmarks', bsos(2));
        const t2 = await s.setItems(user, 'history', bsos(2));
        const deleted = await s.deleteCollection(user, 'history');
        assert.ok(deleted > t2);
        assert.equal(await s.getStorageTimestamp(user), deleted);
        assert.deepEqual(Object.keys(await s.getCollectionTimestamps(user)), ['bookmarks']);
        await assert.rejects(s.getCollectionTimestamp(user, 'history'), CollectionNotFoundError);
        await assert.rejects(s.getItems(user, 'history'), CollectionNotFoundError);
        await assert.rejects(s.deleteCollection(user, 'history'), CollectionNotFoundError);
        await assert.rejects(s.deleteCollection(user, 'never-made'), CollectionNotFoundError);
        const again = await s.setItems(user, 'history', bsos(1));
        assert.ok(again > deleted);
      });

      it('a missing collection: CollectionNotFoundError; an empty one: []', async (s) => {
        const user = newUser();
        await assert.rejects(s.getCollectionTimestamp(user, 'nothing'), CollectionNotFoundError);
        await assert.rejects(s.getItems(user, 'nothing'), CollectionNotFoundError);
        await assert.rejects(s.getItemIds(user, 'nothing'), CollectionNotFoundError);
        await s.setItems(user, 'crypto', [{ id: 'keys', payload: 'k' }]);
        await s.deleteItems(user, 'crypto', ['keys']);
        assert.deepEqual(await s.getItems(user, 'crypto'), { items: [], nextOffset: null });
      });

      it('bad input is StorageInputError, never a database error', async (s) => {
        const user = newUser();
        await assert.rejects(s.setItems(user, 'bad name!', bsos(1)), StorageInputError);
        await assert.rejects(s.setItems(user, 'x'.repeat(33), bsos(1)), StorageInputError);
        await assert.rejects(
          s.setItems(user, 'ok', [{ id: 'bad\n', payload: '' }]),
          StorageInputError,
        );
        await assert.rejects(s.setItems(user, 'ok', [{ id: 'x'.repeat(65) }]), StorageInputError);
        await assert.rejects(
          s.setItems(user, 'ok', [{ id: 'a', sortindex: 1e10 }]),
          StorageInputError,
        );
        await assert.rejects(s.setItems(user, 'ok', [{ id: 'a', ttl: -1 }]), StorageInputError);
        await assert.rejects(s.setItems(user, 'ok', [{ id: 'a', ttl: 1.5 }]), StorageInputError);
        await assert.rejects(s.getItems(0, 'ok'), StorageInputError);
        await assert.rejects(s.getItems(-3, 'ok'), StorageInputError);
        await assert.rejects(s.getItems(1.5, 'ok'), StorageInputError);
        await assert.rejects(s.getItem(user, 'ok', ''), StorageInputError);
        await assert.rejects(s.getItems(user, 'ok', { limit: -1 }), StorageInputError);
        await assert.rejects(
          s.getItems(user, 'ok', { sort: 'sideways' as SortOrder }),
          StorageInputError,
        );
        await assert.rejects(
          s.getItems(user, 'ok', { ids: ["a'; DROP TABLE bso; --\n"] }),
          StorageInputError,
        );
        // Quotes in a valid id are data, not SQL.
        await s.setItems(user, 'ok', [{ id: "a'; DROP TABLE bso; --", payload: 'p' }]);
        assert.equal((await s.getItem(user, 'ok', "a'; DROP TABLE bso; --")).payload, 'p');
      });
    });

    describe('find: filters, sorts, paging', () => {
      it('newer and older are strict; ids filter; sorts order as asked', async (s, { clock }) => {
        const user = newUser();
        const t1 = await s.setItems(user, 'history', [{ id: 'a', payload: 'a', sortindex: 1 }]);
        clock.advance(20);
        const t2 = await s.setItems(user, 'history', [{ id: 'b', payload: 'b', sortindex: 3 }]);
        clock.advance(20);
        const t3 = await s.setItems(user, 'history', [{ id: 'c', payload: 'c', sortindex: 2 }]);
        const ids = async (o: Parameters<SyncStorage['getItemIds']>[2]) =>
          (await s.getItemIds(user, 'history', o)).items;
        assert.deepEqual(await ids({ sort: 'newest' }), ['c', 'b', 'a']);
        assert.deepEqual(await ids({ sort: 'oldest' }), ['a', 'b', 'c']);
        assert.deepEqual(await ids({ sort: 'index' }), ['b', 'c', 'a']);
        assert.deepEqual(await ids({ newer: t1, sort: 'oldest' }), ['b', 'c']);
        assert.deepEqual(await ids({ older: t3, sort: 'oldest' }), ['a', 'b']);
        assert.deepEqual(await ids({ newer: t1, older: t3 }), ['b']);
        assert.deepEqual(await ids({ newer: t3 }), []);
        assert.deepEqual(await ids({ ids: ['a', 'c', 'zz'], sort: 'oldest' }), ['a', 'c']);
        assert.deepEqual(await ids({ ids: [] }), []);
        const full = await s.getItems(user, 'history', { ids: ['b'] });
        assert.equal(full.items[0]?.payload, 'b');
        assert.equal(full.items[0]?.modified, t2);
      });

      for (const sort of ['newest', 'oldest', 'index'] as const) {
        it(`paging with sort=${sort} returns every item once, also when many share one timestamp`, async (s, {
          clock,
        }) => {
          const user = newUser();
          // 30 items in one write share a timestamp; 10 more at later ones.
          await s.setItems(
            user,
            'bookmarks',
            bsos(30, 'same', {}).map((b, i) => ({ ...b, sortindex: i % 4 })),
          );
          for (let i = 0; i < 10; i++) {
            clock.advance(10);
            await s.setItems(user, 'bookmarks', [
              { id: `late${i}`, payload: 'x', sortindex: i % 3 },
            ]);
          }
          const expected = (await s.getItemIds(user, 'bookmarks', { sort })).items;
          assert.equal(expected.length, 40);
          for (const limit of [1, 3, 7, 40, 41]) {
            const seen: string[] = [];
            let offset: string | undefined;
            for (let pages = 0; pages < 100; pages++) {
              const page = await s.getItemIds(user, 'bookmarks', { sort, limit, offset });
              assert.ok(page.items.length <= limit);
              seen.push(...page.items);
              if (page.nextOffset === null) break;
              if (sort === 'index') assert.match(page.nextOffset, /^\d+$/);
              else assert.match(page.nextOffset, /^\d+:\d+$/);
              offset = page.nextOffset;
            }
            assert.deepEqual(seen, expected, `limit ${limit}`);
          }
          // Full BSOs page the same way.
          const page = await s.getItems(user, 'bookmarks', { sort, limit: 5 });
          assert.deepEqual(
            page.items.map((b) => b.id),
            expected.slice(0, 5),
          );
        });
      }

      it('paging honours newer/older filters', async (s, { clock }) => {
        const user = newUser();
        const stamps: number[] = [];
        for (let i = 0; i < 12; i++) {
          clock.advance(10);
          stamps.push(await s.setItems(user, 'forms', bsos(3, `t${i}-`)));
        }
        const options = { newer: stamps[2]!, older: stamps[9]!, sort: 'oldest' as const };
        const expected = (await s.getItemIds(user, 'forms', options)).items;
        assert.equal(expected.length, 18);
        const seen: string[] = [];
        let offset: string | undefined;
        do {
          const page = await s.getItemIds(user, 'forms', { ...options, limit: 4, offset });
          seen.push(...page.items);
          offset = page.nextOffset ?? undefined;
        } while (offset);
        assert.deepEqual(seen, expected);
      });

      it('seed bug: limit=0 returns no items and a token that resumes at the start', async (s) => {
        const user = newUser();
        await s.setItems(user, 'tabs', bsos(3));
        for (const sort of ['newest', 'oldest', 'index'] as const) {
          const empty = await s.getItemIds(user, 'tabs', { sort, limit: 0 });
          assert.deepEqual(empty.items, []);
          assert.ok(empty.nextOffset !== null);
          const rest = await s.getItemIds(user, 'tabs', { sort, offset: empty.nextOffset });
          assert.deepEqual(rest.items, (await s.getItemIds(user, 'tabs', { sort })).items);
        }
      });

      it('malformed or forged offsets are InvalidOffsetError', async (s) => {
        const user = newUser();
        const ts = await s.setItems(user, 'tabs', bsos(5));
        const bad = [
          '',
          'abc',
          '1:',
          ':1',
          '-1:2',
          '1.5:2',
          '1:2:3',
          ' 1:2',
          '1:2\n',
          '0x10:1',
          '1e3:1',
          '99999999999999999999:1',
          '1:99999999999',
          // Ten digits, over the 10^9 offset bound every layer enforces.
          '1:9999999999',
          '17',
        ];
        for (const offset of bad) {
          await assert.rejects(
            s.getItemIds(user, 'tabs', { limit: 2, offset }),
            InvalidOffsetError,
            JSON.stringify(offset),
          );
        }
        for (const offset of ['', 'x', '-1', '1:2', '1.0', '01x', '99999999999', '9999999999']) {
          await assert.rejects(
            s.getItemIds(user, 'tabs', { sort: 'index', limit: 2, offset }),
            InvalidOffsetError,
            JSON.stringify(offset),
          );
        }
        // A bound outside newer/older cannot come from this query.
        await assert.rejects(
          s.getItemIds(user, 'tabs', { newer: ts, limit: 2, offset: `${ts - 10}:1` }),
          InvalidOffsetError,
        );
        await assert.rejects(
          s.getItemIds(user, 'tabs', { older: ts, limit: 2, offset: `${ts + 10}:1` }),
          InvalidOffsetError,
        );
        await assert.rejects(
          s.getItemIds(user, 'tabs', { older: ts, limit: 2, offset: `${ts}:1` }),
          InvalidOffsetError,
        );
      });
    });

    describe('ttl', () => {
      it('an expired item is invisible at once, everywhere, and not counted', async (s, {
        pass,
      }) => {
        const user = newUser();
        await s.setItems(user, 'history', [
          // Expiry is kept in whole seconds (the old server's layout), so a ttl
          // of 1 can end within milliseconds of the write; 2 is always > 1 s.
          { id: 'short', payload: 'gone soon', ttl: 2 },
          { id: 'long', payload: 'stays', ttl: 3600 },
          { id: 'never', payload: 'forever', ttl: null },
        ]);
        assert.equal((await s.getItemIds(user, 'history')).items.length, 3);
        await pass(3100);
        assert.deepEqual((await s.getItemIds(user, 'history', { sort: 'oldest' })).items.sort(), [
          'long',
          'never',
        ]);
        await assert.rejects(s.getItem(user, 'history', 'short'), ItemNotFoundError);
        await assert.rejects(s.getItemTimestamp(user, 'history', 'short'), ItemNotFoundError);
        await assert.rejects(s.deleteItem(user, 'history', 'short'), ItemNotFoundError);
        assert.deepEqual(await s.getCollectionCounts(user), { history: 2 });
        assert.deepEqual(await s.getCollectionSizes(user), { history: 12 });
        assert.equal(await s.getTotalSize(user, true), 12);
        assert.deepEqual((await s.getItems(user, 'history', { ids: ['short'] })).items, []);
      });

      it('seed bug: a partial update of an expired item does not resurrect its payload', async (s, {
        pass,
      }) => {
        const user = newUser();
        await s.setItem(user, 'tabs', 'old', { payload: 'stale secret', sortindex: 1, ttl: 1 });
        await pass(2100);
        const result = await s.setItem(user, 'tabs', 'old', { sortindex: 7 });
        assert.equal(result.created, true);
        const bso = await s.getItem(user, 'tabs', 'old');
        assert.equal(bso.payload, '');
        assert.equal(bso.sortindex, 7);
      });

      it('a ttl update makes an item live longer', async (s, { pass }) => {
        const user = newUser();
        await s.setItem(user, 'forms', 'f', { payload: 'p', ttl: 2 });
        await s.setItem(user, 'forms', 'f', { ttl: 3600 });
        await pass(3100);
        assert.equal((await s.getItem(user, 'forms', 'f')).payload, 'p');
      });
    });

    describe('batches', () => {
      it('items stay invisible until apply, which writes them all at one timestamp', async (s, {
        clock,
      }) => {
        const user = newUser();
        const before = await s.setItems(user, 'bookmarks', [
          { id: 'x', payload: 'old', sortindex: 4 },
        ]);
        const batch = await s.createBatch(user, 'bookmarks');
        assert.equal(typeof batch, 'string');
        assert.equal(await s.validBatch(user, 'bookmarks', batch), true);
        await s.appendItemsToBatch(user, 'bookmarks', batch, bsos(3, 'b'));
        clock.advance(50);
        await s.appendItemsToBatch(user, 'bookmarks', batch, [
          { id: 'b0002', payload: 'replaced in batch' },
          { id: 'x', payload: 'new' },
        ]);
        assert.deepEqual((await s.getItemIds(user, 'bookmarks')).items, ['x']);
        assert.equal(await s.getCollectionTimestamp(user, 'bookmarks'), before);
        const applied = await s.applyBatch(user, 'bookmarks', batch);
        assert.ok(applied > before);
        const items = (await s.getItems(user, 'bookmarks', { sort: 'oldest' })).items;
        assert.equal(items.length, 4);
        for (const item of items) assert.equal(item.modified, applied);
        const x = items.find((b) => b.id === 'x')!;
        assert.equal(x.payload, 'new');
        assert.equal(x.sortindex, 4, 'fields not sent in the batch are kept');
        assert.equal(items.find((b) => b.id === 'b0002')?.payload, 'replaced in batch');
        assert.equal(await s.getCollectionTimestamp(user, 'bookmarks'), applied);
        await s.closeBatch(user, 'bookmarks', batch);
        assert.equal(await s.validBatch(user, 'bookmarks', batch), false);
        await assert.rejects(s.applyBatch(user, 'bookmarks', batch), InvalidBatchError);
        await assert.rejects(
          s.appendItemsToBatch(user, 'bookmarks', batch, bsos(1)),
          InvalidBatchError,
        );
      });

      it('a batch on a new collection creates it on apply', async (s) => {
        const user = newUser();
        const batch = await s.createBatch(user, 'brand-new');
        await s.appendItemsToBatch(user, 'brand-new', batch, bsos(2));
        await assert.rejects(s.getItems(user, 'brand-new'), CollectionNotFoundError);
        const ts = await s.applyBatch(user, 'brand-new', batch);
        assert.equal(await s.getCollectionTimestamp(user, 'brand-new'), ts);
        assert.deepEqual(await s.getCollectionCounts(user), { 'brand-new': 2 });
      });

      it("another user's or collection's batch id, or a malformed one, is invalid", async (s) => {
        const [user, other] = [newUser(), newUser()];
        await s.setItems(user, 'history', bsos(1));
        const batch = await s.createBatch(user, 'history');
        assert.equal(await s.validBatch(other, 'history', batch), false);
        assert.equal(await s.validBatch(user, 'bookmarks', batch), false);
        await assert.rejects(
          s.appendItemsToBatch(other, 'history', batch, bsos(1)),
          InvalidBatchError,
        );
        await assert.rejects(s.applyBatch(user, 'bookmarks', batch), InvalidBatchError);
        await s.closeBatch(other, 'history', batch);
        assert.equal(
          await s.validBatch(user, 'history', batch),
          true,
          "another user's close is a no-op",
        );
        for (const bad of [
          '',
          'abc',
          '-1',
          '1e3',
          '0012',
          '1.5',
          ' 1',
          `${batch}\n`,
          '9'.repeat(30),
          'true',
        ]) {
          assert.equal(await s.validBatch(user, 'history', bad), false, JSON.stringify(bad));
          await assert.rejects(s.applyBatch(user, 'history', bad), InvalidBatchError);
          await assert.rejects(
            s.appendItemsToBatch(user, 'history', bad, bsos(1)),
            InvalidBatchError,
          );
          await s.closeBatch(user, 'history', bad);
        }
      });

      it('two batches opened in the same 10 ms are distinct and both valid', async (s, {
        clock,
      }) => {
        const user = newUser();
        clock.freeze();
        const a = await s.createBatch(user, 'tabs');
        const b = await s.createBatch(user, 'tabs');
        assert.notEqual(a, b);
        assert.equal(await s.validBatch(user, 'tabs', a), true);
        assert.equal(await s.validBatch(user, 'tabs', b), true);
        await s.appendItemsToBatch(user, 'tabs', a, [{ id: 'from-a', payload: 'a' }]);
        await s.appendItemsToBatch(user, 'tabs', b, [{ id: 'from-b', payload: 'b' }]);
        await s.applyBatch(user, 'tabs', b);
        assert.deepEqual((await s.getItemIds(user, 'tabs')).items, ['from-b']);
      });

      it(
        'a batch expires after 2 hours',
        async (s, { clock }) => {
          const user = newUser();
          const batch = await s.createBatch(user, 'forms');
          clock.advance(2 * 3600 * 1000 - 5000);
          assert.equal(await s.validBatch(user, 'forms', batch), true);
          clock.advance(10_000);
          assert.equal(await s.validBatch(user, 'forms', batch), false);
          await assert.rejects(s.applyBatch(user, 'forms', batch), InvalidBatchError);
        },
        needsClock,
      );

      it(
        'the ttl of a batch item counts from the commit',
        async (s, { clock }) => {
          const user = newUser();
          const batch = await s.createBatch(user, 'history');
          await s.appendItemsToBatch(user, 'history', batch, [
            { id: 'ttl', payload: 'p', ttl: 10 },
            { id: 'forever', payload: 'p', ttl: null },
          ]);
          clock.advance(60_000);
          await s.applyBatch(user, 'history', batch);
          clock.advance(5000);
          assert.deepEqual((await s.getItemIds(user, 'history', { sort: 'oldest' })).items.sort(), [
            'forever',
            'ttl',
          ]);
          clock.advance(6000);
          assert.deepEqual((await s.getItemIds(user, 'history')).items, ['forever']);
        },
        needsClock,
      );
    });

    describe('locks and sessions', () => {
      it('writes inside one write lock share one timestamp', async (s) => {
        const user = newUser();
        const before = await s.setItems(user, 'bookmarks', bsos(1));
        const [a, b, c] = await s.withWriteLock(user, 'bookmarks', async (tx) => [
          await tx.setItems(user, 'bookmarks', [{ id: 'a', payload: '1' }]),
          await tx.setItems(user, 'bookmarks', [{ id: 'b', payload: '2' }]),
          (await tx.setItem(user, 'bookmarks', 'c', { payload: '3' })).modified,
        ]);
        assert.ok(a > before);
        assert.equal(a, b);
        assert.equal(b, c);
        assert.equal(await s.getCollectionTimestamp(user, 'bookmarks'), a);
      });

      it('locks are re-entrant, and reads inside a write lock see its writes', async (s) => {
        const user = newUser();
        const result = await s.withWriteLock(user, 'forms', (tx) =>
          tx.withWriteLock(user, 'forms', async () => {
            await tx.setItems(user, 'forms', bsos(2));
            return tx.withReadLock(
              user,
              'forms',
              async () => (await tx.getItemIds(user, 'forms')).items.length,
            );
          }),
        );
        assert.equal(result, 2);
        const count = await s.withReadLock(user, 'forms', (tx) =>
          tx.withReadLock(
            user,
            'forms',
            async () => (await tx.getItemIds(user, 'forms')).items.length,
          ),
        );
        assert.equal(count, 2);
        // A read lock on a collection that does not exist is fine.
        assert.equal(await s.withReadLock(user, 'nothing', async () => 'ok'), 'ok');
      });

      it('a write lock inside a read lock, or a write inside a read lock, is LockEscalationError', async (s) => {
        const user = newUser();
        await s.setItems(user, 'tabs', bsos(1));
        await assert.rejects(
          s.withReadLock(user, 'tabs', (tx) => tx.withWriteLock(user, 'tabs', async () => 1)),
          LockEscalationError,
        );
        await assert.rejects(
          s.withReadLock(user, 'tabs', (tx) => tx.setItems(user, 'tabs', bsos(1))),
          LockEscalationError,
        );
        // The storage is still usable afterwards.
        assert.ok((await s.setItems(user, 'tabs', bsos(1))) > 0);
      });

      it('work a lock body leaves running after the lock ends runs on its own', async (s) => {
        const user = newUser();
        let late: Promise<number> | undefined;
        // The late work starts once the lock has ended, not after a delay
        // guessed to outlast it: a slow body would let a timer fire inside
        // the lock, where the write rightly shares the lock's timestamp.
        let lockEnded = (): void => undefined;
        const ended = new Promise<void>((resolve) => (lockEnded = resolve));
        const locked = await s.withWriteLock(user, 'tabs', async (tx) => {
          late = ended.then(() => tx.setItems(user, 'tabs', [{ id: 'late', payload: 'l' }]));
          return tx.setItems(user, 'tabs', [{ id: 'inside', payload: 'i' }]);
        });
        lockEnded();
        const after = await late!;
        assert.ok(after > locked, `${after} > ${locked}`);
        assert.deepEqual((await s.getItemIds(user, 'tabs')).items, ['late', 'inside']);
      });

      it(
        'a failing write-lock body rolls back its writes',
        async (s) => {
          const user = newUser();
          const ts = await s.setItems(user, 'history', [{ id: 'keep', payload: 'k' }]);
          await assert.rejects(
            s.withWriteLock(user, 'history', async (tx) => {
              await tx.setItems(user, 'history', [{ id: 'lost', payload: 'l' }]);
              await tx.setItems(user, 'brand-new-too', [{ id: 'lost', payload: 'l' }]);
              throw new Error('boom');
            }),
            /boom/,
          );
          assert.deepEqual((await s.getItemIds(user, 'history')).items, ['keep']);
          assert.equal(await s.getCollectionTimestamp(user, 'history'), ts);
          assert.deepEqual(Object.keys(await s.getCollectionTimestamps(user)), ['history']);
        },
        caps.transactions ? {} : { skip: 'needs capabilities.transactions' },
      );

      it('two concurrent writers on one collection take turns and get distinct timestamps', async (s) => {
        const user = newUser();
        await s.setItems(user, 'bookmarks', bsos(1));
        const events: string[] = [];
        const writer = (name: string) =>
          s.withWriteLock(user, 'bookmarks', async (tx) => {
            events.push(`${name}:in`);
            const seen = await tx.getCollectionTimestamp(user, 'bookmarks');
            await sleep(60);
            const ts = await tx.setItems(user, 'bookmarks', [{ id: name, payload: name }]);
            assert.ok(ts > seen);
            events.push(`${name}:out`);
            return ts;
          });
        const [a, b] = await Promise.all([writer('a'), writer('b')]);
        assert.notEqual(a, b);
        // The critical sections did not overlap.
        assert.ok(
          events.join() === 'a:in,a:out,b:in,b:out' || events.join() === 'b:in,b:out,a:in,a:out',
          events.join(),
        );
        assert.equal(await s.getCollectionTimestamp(user, 'bookmarks'), Math.max(a, b));
      });

      it('many concurrent plain writes all succeed with distinct timestamps', async (s, {
        clock,
      }) => {
        const user = newUser();
        clock.freeze();
        const stamps = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            s.setItems(user, 'clients', [{ id: `c${i}`, payload: 'p' }]),
          ),
        );
        assert.equal(new Set(stamps).size, stamps.length);
        assert.equal(await s.getCollectionTimestamp(user, 'clients'), Math.max(...stamps));
        assert.equal((await s.getItemIds(user, 'clients')).items.length, 12);
      });

      it('a reader during a write never sees part of it', async (s) => {
        const user = newUser();
        let signal!: () => void;
        const halfway = new Promise<void>((resolve) => (signal = resolve));
        const writing = s.withWriteLock(user, 'history', async (tx) => {
          await tx.setItems(user, 'history', bsos(50, 'first'));
          signal();
          await sleep(100);
          await tx.setItems(user, 'history', bsos(50, 'second'));
        });
        await halfway;
        const seen = await s
          .getItemIds(user, 'history')
          .then((r) => r.items.length)
          .catch((error: unknown) => {
            if (error instanceof CollectionNotFoundError) return 0;
            throw error;
          });
        const counts = await s.getCollectionCounts(user);
        await writing;
        assert.ok(seen === 0 || seen === 100, `saw ${seen} items`);
        assert.ok([undefined, 100].includes(counts.history), `counted ${counts.history}`);
        assert.equal((await s.getItemIds(user, 'history')).items.length, 100);
      });
    });

    describe('usage and quota', () => {
      const needsRunningTotal = caps.runningTotal
        ? {}
        : { skip: 'needs capabilities.runningTotal' };
      /** The running total agrees with a recount. */
      async function assertTotal(s: SyncStorage, user: number, expected: number): Promise<void> {
        assert.equal(await s.getTotalSize(user, true), expected, 'recount');
        assert.equal(await s.getTotalSize(user), expected, 'running total');
      }

      it(
        'the running total follows every kind of write without a recount',
        async (s) => {
          const user = newUser();
          await s.setItems(user, 'bookmarks', [
            { id: 'a', payload: 'abc' },
            { id: 'b', payload: 'é' },
            { id: 'a', payload: 'abcd' },
          ]);
          await assertTotal(s, user, 6);
          await s.setItem(user, 'bookmarks', 'a', { payload: 'x' }); // 4 → 1 byte
          await s.setItem(user, 'bookmarks', 'b', { sortindex: 3 }); // payload kept
          await assertTotal(s, user, 3);
          await s.setItems(user, 'history', bsos(3)); // 3 × 16 bytes
          await assertTotal(s, user, 3 + 48);
          await s.deleteItem(user, 'history', 'item0000');
          await s.deleteItems(user, 'history', ['item0001', 'item0001', 'nope']);
          await assertTotal(s, user, 3 + 16);
          const batch = await s.createBatch(user, 'bookmarks');
          await s.appendItemsToBatch(user, 'bookmarks', batch, [
            { id: 'a', payload: '12345' }, // 1 → 5
            { id: 'b', sortindex: 1 }, // kept
            { id: 'c', payload: '1234567890' }, // new
            { id: 'd', sortindex: 2 }, // new, empty
          ]);
          await assertTotal(s, user, 3 + 16);
          await s.applyBatch(user, 'bookmarks', batch);
          await assertTotal(s, user, 5 + 2 + 10 + 16);
          await s.deleteCollection(user, 'bookmarks');
          await assertTotal(s, user, 16);
          await s.deleteStorage(user);
          await assertTotal(s, user, 0);
        },
        needsRunningTotal,
      );

      it(
        'expired items count in the running total until purged; a recount leaves them out',
        async (s, { pass }) => {
          const user = newUser();
          await s.setItems(user, 'tabs', [
            { id: 'short', payload: '1234', ttl: 1 },
            { id: 'partial', payload: '12345678', ttl: 1 },
            { id: 'long', payload: '12', ttl: 3600 },
          ]);
          await pass(2100);
          assert.equal(await s.getTotalSize(user, true), 2);
          assert.equal(await s.getTotalSize(user), 14);
          // A partial update of an expired item starts it afresh, without its payload.
          await s.setItem(user, 'tabs', 'partial', { sortindex: 1 });
          assert.equal(await s.getTotalSize(user), 6);
          await s.purgeExpiredItems();
          await assertTotal(s, user, 2);
          // A batch over an expired item replaces it too.
          await s.setItem(user, 'tabs', 'again', { payload: '123', ttl: 1 });
          await pass(2100);
          const batch = await s.createBatch(user, 'tabs');
          await s.appendItemsToBatch(user, 'tabs', batch, [{ id: 'again', sortindex: 1 }]);
          await s.applyBatch(user, 'tabs', batch);
          await assertTotal(s, user, 2);
        },
        caps.runningTotal && caps.clock ? {} : { skip: 'needs runningTotal and clock' },
      );

      it(
        'concurrent writers and a purge keep the running total exact',
        async (s, { pass }) => {
          const user = newUser();
          await s.setItems(user, 'forms', bsos(20, 'old', { ttl: 1 }));
          await pass(2100);
          const writers = Array.from({ length: 4 }, async (_, w) => {
            for (let i = 0; i < 10; i++) {
              const collection = w % 2 ? 'forms' : 'history';
              await s.setItems(user, collection, [
                { id: `old${String(i).padStart(4, '0')}`, payload: 'x'.repeat(w + i) },
                { id: `w${w}-${i}`, payload: 'y'.repeat(i) },
              ]);
              if (i % 3 === 0) await s.deleteItems(user, collection, [`w${w}-${i - 1}`]);
            }
          });
          await Promise.all([...writers, s.purgeExpiredItems({ maxPerLoop: 3 })]);
          await s.purgeExpiredItems();
          await assertTotal(s, user, await s.getTotalSize(user, true));
          const sizes = Object.values(await s.getCollectionSizes(user));
          assert.equal(
            await s.getTotalSize(user),
            sizes.reduce((a, b) => a + b, 0),
          );
        },
        needsRunningTotal,
      );

      it('a per-user quota is kept, replaced and cleared', async (s) => {
        const [user, other] = [newUser(), newUser()];
        assert.equal(await s.getUserQuota(user), null);
        await s.setUserQuota(user, 1_000_000);
        await s.setUserQuota(user, 5_000);
        assert.equal(await s.getUserQuota(user), 5_000);
        assert.equal(await s.getUserQuota(other), null);
        await s.setUserQuota(user, 0);
        assert.equal(await s.getUserQuota(user), 0);
        await s.setUserQuota(user, null);
        assert.equal(await s.getUserQuota(user), null);
        await assert.rejects(s.setUserQuota(user, -1), StorageInputError);
        await assert.rejects(s.setUserQuota(user, 1.5), StorageInputError);
      });
    });

    describe('maintenance', () => {
      it('purgeExpiredItems removes expired rows and keeps live ones', async (s, { pass }) => {
        const user = newUser();
        await s.setItems(user, 'history', [
          ...bsos(5, 'short', { ttl: 1 }),
          ...bsos(2, 'long', { ttl: 3600 }),
        ]);
        await pass(2100);
        const result = await s.purgeExpiredItems();
        assert.ok(result.bsoRowsPurged >= 5, JSON.stringify(result));
        assert.equal(result.isComplete, true);
        assert.deepEqual(await s.getCollectionCounts(user), { history: 2 });
      });

      it('healthCheck reports the database up', async (s) => {
        assert.equal((await s.healthCheck()).database, true);
      });
    });
  });
}
