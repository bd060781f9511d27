/**
 * The running totals of `syncstorage_usage` across processes: two storages
 * on one PostgreSQL database (two connection pools, as two server processes have)
 * write the same users' collections and purge at once, and the totals still
 * match a recount; a database written before the totals existed is counted
 * once by the migration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { forEachSqlBackend } from './support/sql-backends.js';
import { TestClock } from './support/test-clock.js';

forEachSqlBackend('usage totals', (open, backend) => {
  // SQLite has one writer per file, and two storages on one file in one
  // process stall each other (sqlite-driver.ts): the row locks of
  // PostgreSQL are where writers and the purge meet.
  const rowLocks = backend === 'postgres' ? {} : { skip: 'SQLite writes one at a time' };
  test('two processes writing and purging the same users keep exact totals', rowLocks, async () => {
    const clock = new TestClock();
    const first = await open({ clock: () => clock.now(), lockTimeoutMs: 10_000 });
    const second = await openSqlStorage({
      url: first.url,
      clock: () => clock.now(),
      lockTimeoutMs: 10_000,
    });
    try {
      const users = [11, 12];
      for (const user of users) {
        await first.storage.setItems(
          user,
          'history',
          Array.from({ length: 30 }, (_, i) => ({ id: `e${i}`, payload: 'z'.repeat(i), ttl: 1 })),
        );
      }
      clock.advance(2100);
      const work = [first.storage, second].flatMap((storage, p) =>
        users.map(async (user) => {
          for (let i = 0; i < 15; i++) {
            const collection = i % 2 ? 'history' : 'bookmarks';
            await storage.setItems(user, collection, [
              { id: `e${i + p}`, payload: 'a'.repeat(p + i) },
              { id: `n${p}-${i}`, payload: 'b'.repeat(i) },
            ]);
            if (i % 4 === 0) await storage.deleteItems(user, collection, [`e${i + 1 - p}`]);
          }
        }),
      );
      await Promise.all([...work, second.purgeExpiredItems({ maxPerLoop: 4 })]);
      await first.storage.purgeExpiredItems();
      for (const user of users) {
        const exact = await first.storage.getTotalSize(user, true);
        assert.ok(exact > 0);
        assert.equal(await first.storage.getTotalSize(user), exact);
        assert.equal(await second.getTotalSize(user), exact);
      }
    } finally {
      await second.close();
      await first.close();
    }
  });

  test('the migration counts rows written before the totals existed', async () => {
    const { storage, raw, url, close } = await open();
    try {
      await storage.setItems(21, 'forms', [
        { id: 'a', payload: '123' },
        { id: 'b', payload: '45' },
      ]);
      await storage.setItems(22, 'prefs', [{ id: 'p', payload: '6789' }]);
      // As a version-1 database: no totals, and the schema says so.
      await raw.exec('DROP TABLE syncstorage_usage');
      await raw.exec('DROP TABLE syncstorage_quotas');
      await raw.exec('UPDATE syncstorage_schema SET version = 1');
      await storage.close();
      const reopened = await openSqlStorage({ url });
      try {
        assert.equal(await reopened.getTotalSize(21), 5);
        assert.equal(await reopened.getTotalSize(22), 4);
        assert.equal(await reopened.getUserQuota(21), null);
      } finally {
        await reopened.close();
      }
    } finally {
      await close().catch(() => undefined);
    }
  });
});
