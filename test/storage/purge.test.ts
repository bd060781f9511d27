import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import type { PurgeProgress } from '../../src/storage/sync-storage.js';
import { forEachSqlBackend } from './support/sql-backends.js';
import { TestClock } from './support/test-clock.js';

const items = (n: number, prefix: string, ttl: number | null) =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, payload: 'x'.repeat(10), ttl }));

forEachSqlBackend('purgeExpiredItems', (open, backend) => {
  test('deletes in bounded statements, reports progress, keeps live rows', async () => {
    const clock = new TestClock();
    const { storage, raw, url, close } = await open({ clock: () => clock.now() });
    try {
      for (let user = 1; user <= 5; user++) {
        await storage.setItems(user, 'history', items(100, 'dead', 10));
        await storage.setItems(user, 'history', items(3, 'live', null));
      }
      clock.advance(11_000);
      const progress: PurgeProgress[] = [];
      const sqlitePath = backend === 'sqlite' ? url.slice('sqlite:'.length) : undefined;
      const result = await storage.purgeExpiredItems({
        maxPerLoop: 64,
        onProgress: (p) => {
          progress.push(p);
          // No transaction is held between statements: another connection
          // can take the write lock at once.
          if (sqlitePath) {
            const other = new Database(sqlitePath, { timeout: 0 });
            try {
              other.prepare('BEGIN IMMEDIATE').run();
              other.prepare('COMMIT').run();
            } finally {
              other.close();
            }
          }
        },
      });
      assert.deepEqual(result, {
        bsoRowsPurged: 500,
        batchesPurged: 0,
        batchItemsPurged: 0,
        isComplete: true,
      });
      const bsoSteps = progress.map((p) => p.bsoRowsPurged);
      assert.ok(bsoSteps.length >= 8, `${bsoSteps}`);
      for (let i = 1; i < bsoSteps.length; i++) {
        assert.ok(bsoSteps[i]! - bsoSteps[i - 1]! <= 64, 'at most maxPerLoop rows per statement');
      }
      // Each step names its phase and what is left of it.
      const itemSteps = progress.filter((p) => p.phase === 'items');
      assert.equal(itemSteps[0]!.remaining, 500 - itemSteps[0]!.bsoRowsPurged);
      assert.equal(itemSteps.at(-1)!.remaining, 0);
      assert.ok(progress.some((p) => p.phase === 'batch items'));
      const left = await raw.rows<{ n: number }>('SELECT COUNT(*) AS n FROM bso');
      assert.equal(Number(left[0]?.n), 15);
      assert.deepEqual(await storage.getCollectionCounts(3), { history: 3 });
    } finally {
      await close();
    }
  });

  test('honours the grace period, and stops early with isComplete false', async () => {
    const clock = new TestClock();
    const { storage, close } = await open({ clock: () => clock.now() });
    try {
      await storage.setItems(1, 'forms', items(150, 'd', 1));
      clock.advance(5000);
      const graced = await storage.purgeExpiredItems({ gracePeriod: 3600 });
      assert.equal(graced.bsoRowsPurged, 0);
      const partial = await storage.purgeExpiredItems({ maxPerLoop: 1 });
      assert.equal(partial.isComplete, false);
      assert.equal(partial.bsoRowsPurged, 100);
      const rest = await storage.purgeExpiredItems({ maxPerLoop: 1000 });
      assert.deepEqual([rest.bsoRowsPurged, rest.isComplete], [50, true]);
    } finally {
      await close();
    }
  });

  test('purges batches past their lifetime and their items', async () => {
    const clock = new TestClock();
    const { storage, raw, close } = await open({ clock: () => clock.now() });
    try {
      const old = await storage.createBatch(7, 'tabs');
      await storage.appendItemsToBatch(7, 'tabs', old, items(30, 'b', null));
      clock.advance(2 * 3600 * 1000 + 60_000);
      const fresh = await storage.createBatch(7, 'tabs');
      await storage.appendItemsToBatch(7, 'tabs', fresh, items(2, 'f', null));
      const result = await storage.purgeExpiredItems({ maxPerLoop: 10 });
      assert.deepEqual(result, {
        bsoRowsPurged: 0,
        batchesPurged: 1,
        batchItemsPurged: 30,
        isComplete: true,
      });
      assert.equal(await storage.validBatch(7, 'tabs', fresh), true);
      const left = await raw.rows<{ n: number }>('SELECT COUNT(*) AS n FROM batch_upload_items');
      assert.equal(Number(left[0]?.n), 2);
    } finally {
      await close();
    }
  });
});
