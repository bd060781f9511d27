import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError } from '../../src/storage/errors.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { forEachSqlBackend } from './support/sql-backends.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

forEachSqlBackend('lock timeouts', (open, backend) => {
  // MySQL waits for row locks in whole seconds (innodb_lock_wait_timeout):
  // 150 ms rounds up to 1 s there, so the holder must hold longer.
  const holdMs = backend === 'mariadb' ? 1600 : 600;

  test('a writer that cannot get the lock in time gets ConflictError; the holder commits', async () => {
    const { storage, close } = await open({ lockTimeoutMs: 150 });
    try {
      await storage.setItems(1, 'tabs', [{ id: 'a', payload: 'a' }]);
      let entered!: () => void;
      const holding = new Promise<void>((resolve) => (entered = resolve));
      const holder = storage.withWriteLock(1, 'tabs', async (tx) => {
        entered();
        await sleep(holdMs);
        return tx.setItems(1, 'tabs', [{ id: 'held', payload: 'h' }]);
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

  test('inside a write lock, only calls through its tx join it: the outer storage waits like anyone', async () => {
    const { storage, close } = await open({ lockTimeoutMs: 150 });
    try {
      const ts = await storage.withWriteLock(3, 'tabs', async (tx) => {
        const joined = await tx.setItems(3, 'tabs', [{ id: 'tx', payload: 't' }]);
        // The lock is explicit (no async context): this is another writer.
        await assert.rejects(
          storage.setItems(3, 'tabs', [{ id: 'outer', payload: 'o' }]),
          ConflictError,
        );
        // A nested lock through tx is re-entrant and shares the timestamp.
        assert.equal(
          await tx.withWriteLock(3, 'tabs', (again) =>
            again.setItems(3, 'tabs', [{ id: 'nested', payload: 'n' }]),
          ),
          joined,
        );
        return joined;
      });
      assert.equal(await storage.getCollectionTimestamp(3, 'tabs'), ts);
      assert.deepEqual((await storage.getItemIds(3, 'tabs')).items.sort(), ['nested', 'tx']);
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
      const holder = storage.withWriteLock(2, 'forms', async (tx) => {
        entered();
        await sleep(holdMs);
        return tx.setItems(2, 'forms', [{ id: 'b', payload: 'b' }]);
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
