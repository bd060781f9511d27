import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError } from '../../src/storage/errors.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { forEachSqlBackend } from './support/sql-backends.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

forEachSqlBackend('lock timeouts', (open) => {
  test('a writer that cannot get the lock in time gets ConflictError; the holder commits', async () => {
    const { storage, close } = await open({ lockTimeoutMs: 150 });
    try {
      await storage.setItems(1, 'tabs', [{ id: 'a', payload: 'a' }]);
      let entered!: () => void;
      const holding = new Promise<void>((resolve) => (entered = resolve));
      const holder = storage.withWriteLock(1, 'tabs', async () => {
        entered();
        await sleep(600);
        return storage.setItems(1, 'tabs', [{ id: 'held', payload: 'h' }]);
      });
      await holding;
      await assert.rejects(
        storage.setItems(1, 'tabs', [{ id: 'late', payload: 'l' }]),
        ConflictError,
      );
      await holder;
      assert.deepEqual((await storage.getItemIds(1, 'tabs', { sort: 'oldest' })).items.sort(), [
        'a',
        'held',
      ]);
    } finally {
      await close();
    }
  });

  test('a second storage on the same database waits its turn, or gets ConflictError', async () => {
    const { storage, url, close } = await open({ lockTimeoutMs: 150 });
    // A second process (say, the purge command) on the same database.
    const other = await openSqlStorage({
      url,
      lockTimeoutMs: 150,
      sqlite: { busyTimeoutMs: 150 },
    });
    try {
      await storage.setItems(2, 'forms', [{ id: 'a', payload: 'a' }]);
      let entered!: () => void;
      const holding = new Promise<void>((resolve) => (entered = resolve));
      const holder = storage.withWriteLock(2, 'forms', async () => {
        entered();
        await sleep(600);
        return storage.setItems(2, 'forms', [{ id: 'b', payload: 'b' }]);
      });
      await holding;
      await assert.rejects(other.setItems(2, 'forms', [{ id: 'c', payload: 'c' }]), ConflictError);
      const held = await holder;
      // Once the lock is free, the other storage writes, later than the holder.
      const after = await other.setItems(2, 'forms', [{ id: 'c', payload: 'c' }]);
      assert.ok(after > held);
      assert.equal((await other.getItemIds(2, 'forms')).items.length, 3);
    } finally {
      await other.close();
      await close();
    }
  });
});
