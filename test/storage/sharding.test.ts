import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachSqlBackend } from './support/sql-backends.js';

forEachSqlBackend('sharded bso and batch_upload_items tables', (open) => {
  test('rows go to table userid % shards; every operation and purge sees them', async () => {
    const { storage, raw, close } = await open({ shards: 4 });
    try {
      for (let user = 1; user <= 8; user++) {
        await storage.setItems(user, 'bookmarks', [
          { id: `u${user}`, payload: `user ${user}` },
          { id: 'gone', payload: 'x', ttl: 0 },
        ]);
        const batch = await storage.createBatch(user, 'bookmarks');
        await storage.appendItemsToBatch(user, 'bookmarks', batch, [{ id: 'b', payload: 'b' }]);
      }
      for (let shard = 0; shard < 4; shard++) {
        const rows = await raw.rows<{ userid: number }>(
          `SELECT DISTINCT userid FROM bso${shard} ORDER BY userid`,
        );
        assert.deepEqual(
          rows.map((r) => Number(r.userid)),
          [shard === 0 ? 4 : shard, shard === 0 ? 8 : shard + 4],
        );
        const items = await raw.rows<{ userid: number }>(
          `SELECT DISTINCT userid FROM batch_upload_items${shard} ORDER BY userid`,
        );
        assert.equal(items.length, 2);
      }
      assert.deepEqual((await storage.getItemIds(6, 'bookmarks')).items, ['u6']);
      assert.deepEqual(await storage.getCollectionCounts(5), { bookmarks: 1 });
      const purged = await storage.purgeExpiredItems();
      assert.equal(purged.bsoRowsPurged, 8);
      await storage.deleteStorage(3);
      assert.deepEqual(await raw.rows('SELECT userid FROM bso3 WHERE userid = 3'), []);
      assert.deepEqual(await storage.getCollectionCounts(7), { bookmarks: 1 });
    } finally {
      await close();
    }
  });
});
