/**
 * Property test: random writes and reads on cached, cache-only and uncached
 * collections while the cache is flushed, keys are evicted and calls fail
 * at random points. After every step the cached layer must answer exactly
 * what the database says (cache-only collections aside, which have no
 * database copy).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheProtocolError } from '@syncstorage-ts/memcache';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';
import type { SyncStorage } from '../../src/storage/sync-storage.js';
import { cachedFixture, newUser } from './cached-setup.js';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed by its seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function view(s: SyncStorage, user: number, collection: string): Promise<unknown> {
  try {
    const ts = await s.getCollectionTimestamp(user, collection);
    const { items } = await s.getItems(user, collection, { sort: 'oldest' });
    return { ts, items: items.map((b) => [b.id, b.payload, b.modified, b.sortindex]) };
  } catch (error) {
    return (error as Error).name;
  }
}

for (const seed of [1, 2, 3]) {
  test(`random flushes, evictions and cache failures never show data the database does not have (seed ${seed})`, async () => {
    const f = await cachedFixture();
    const rnd = random(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
    const user = newUser();
    const collections = ['meta', 'clients', 'bookmarks'];
    const inner = f.db.storage;
    const disturb = async () => {
      const r = rnd();
      if (r < 0.1) await f.raw.flush();
      else if (r < 0.25) {
        const key = pick([`${user}:metadata`, `${user}:c:meta`, `${user}:c:clients`]);
        await f.raw.delete(f.prefix + key);
      }
    };
    f.db.hooks.before = disturb;
    f.db.hooks.after = disturb;
    const failSometimes = f.chaos.rule(() =>
      rnd() < 0.03 ? new CacheProtocolError('chaos') : undefined,
    );
    for (let step = 0; step < 150; step++) {
      const collection = pick(collections);
      const id = pick(['a', 'b', 'c', 'd']);
      const r = rnd();
      try {
        if (r < 0.45) await f.storage.setItems(user, collection, [{ id, payload: `v${step}` }]);
        else if (r < 0.55) await f.storage.setItem(user, collection, id, { sortindex: step });
        else if (r < 0.7) await f.storage.deleteItem(user, collection, id);
        else if (r < 0.75) await f.storage.deleteCollection(user, collection);
        else if (r < 0.85) await f.storage.getItems(user, collection);
        else await f.storage.getCollectionTimestamps(user);
      } catch (error) {
        const name = (error as Error).name;
        // A write whose dirty mark failed is refused (StorageUnavailableError), nothing written.
        assert.ok(
          [
            'ItemNotFoundError',
            'CollectionNotFoundError',
            'ConflictError',
            'StorageUnavailableError',
          ].includes(name),
          `step ${step}: ${name} ${(error as Error).message}`,
        );
      }
      for (const c of collections) {
        assert.deepEqual(
          await view(f.storage, user, c),
          await view(inner, user, c),
          `step ${step} ${c}`,
        );
      }
      assert.deepEqual(
        await f.storage.getCollectionTimestamps(user),
        await inner.getCollectionTimestamps(user),
        `step ${step}`,
      );
      assert.equal(
        await f.storage.getStorageTimestamp(user),
        await inner.getStorageTimestamp(user),
        `step ${step}`,
      );
      assert.deepEqual(
        await f.storage.getTimestamps(user),
        await inner.getTimestamps(user),
        `step ${step}`,
      );
    }
    failSometimes();
    await f.storage.close();
  });
}

let memcached: MemcachedServer | undefined;
before(async () => {
  memcached = await startMemcached();
});
after(() => memcached?.stop());

for (const [seed, cacheKind] of [
  [7, 'MemoryStore'],
  [8, 'MemoryStore'],
  [9, 'memcached'],
] as const) {
  test(`concurrent writers with flushes and evictions end where the database is (seed ${seed}, ${cacheKind})`, async () => {
    const f = await cachedFixture(
      cacheKind === 'memcached'
        ? { cache: new MemcachedClient({ servers: [memcached!.address] }) }
        : {},
    );
    const rnd = random(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
    const user = newUser();
    const collections = ['meta', 'clients', 'bookmarks'];
    f.db.hooks.after = async () => {
      const r = rnd();
      if (r < 0.05) await f.raw.flush();
      else if (r < 0.15)
        await f.raw.delete(`${f.prefix}${user}:${pick(['metadata', 'c:meta', 'c:clients'])}`);
    };
    const worker = async (w: number) => {
      for (let step = 0; step < 30; step++) {
        const collection = pick(collections);
        const r = rnd();
        try {
          if (r < 0.5) {
            await f.storage.setItems(user, collection, [
              { id: pick(['a', 'b', 'c']), payload: `w${w}s${step}` },
            ]);
          } else if (r < 0.65) await f.storage.deleteItem(user, collection, pick(['a', 'b', 'c']));
          else if (r < 0.7) await f.storage.deleteCollection(user, collection);
          else if (r < 0.85) await f.storage.getItems(user, collection);
          else await f.storage.getCollectionTimestamps(user);
        } catch (error) {
          const name = (error as Error).name;
          assert.ok(
            ['ItemNotFoundError', 'CollectionNotFoundError', 'ConflictError'].includes(name),
            `${name}: ${(error as Error).message}`,
          );
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    f.db.hooks.after = undefined;
    for (const c of collections) {
      assert.deepEqual(await view(f.storage, user, c), await view(f.db.storage, user, c), c);
    }
    assert.deepEqual(
      await f.storage.getCollectionTimestamps(user),
      await f.db.storage.getCollectionTimestamps(user),
    );
    assert.equal(
      await f.storage.getStorageTimestamp(user),
      await f.db.storage.getStorageTimestamp(user),
    );
    assert.deepEqual(await f.storage.getTimestamps(user), await f.db.storage.getTimestamps(user));
    await f.storage.close();
  });
}
