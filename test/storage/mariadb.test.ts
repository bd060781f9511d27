/**
 * MariaDB: the SyncStorage conformance suite, then what is MySQL's own
 * (connections that die, deadlocks, utf8mb4, ids that differ by a trailing
 * space, payloads past TEXT's 64 KB), and last the server going away. One
 * MariaDB server for the file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, StorageUnavailableError } from '../../src/storage/errors.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { DatabaseClaimedError } from '../../src/sql/database-claim.js';
import { MysqlDriver } from '../../src/sql/mysql-driver.js';
import type { SyncStorage } from '../../src/storage/sync-storage.js';
import { startMariadb, type MariadbServer } from '@syncstorage-ts/test-support';
import { registerSyncStorageConformance } from './conformance.js';
import { rawMysql, type RawDatabase } from './support/raw-database.js';
import { skipUnless } from './support/storage-backends.js';

describe('MariaDB', skipUnless('mariadb'), () => {
  let server: MariadbServer;
  let url = '';
  before(async () => {
    server = await startMariadb();
    url = await server.createDatabase('conformance');
  });
  after(() => server?.stop());

  registerSyncStorageConformance({
    name: 'mariadb',
    // One database for the spec; every test uses user ids of its own.
    create: async ({ clock }) => ({
      storage: await openSqlStorage({ url, clock, lockTimeoutMs: 3000 }),
    }),
    capabilities: { clock: true },
  });

  describe('MySQL specifics', () => {
    let storage: SyncStorage;
    let raw: RawDatabase;
    let database = '';
    before(async () => {
      const specificUrl = await server.createDatabase('specifics');
      database = 'specifics';
      storage = await openSqlStorage({ url: specificUrl, lockTimeoutMs: 1000 });
      raw = await rawMysql(specificUrl);
    });
    after(async () => {
      await storage?.close();
      await raw?.close();
    });

    /** Kill every connection of the storage (the server restarted, a proxy dropped them). */
    async function killStorageConnections(): Promise<number> {
      const rows = await raw.rows<{ ID: number }>(
        'SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [database],
      );
      for (const { ID } of rows) await raw.exec(`KILL ${Number(ID)}`);
      return rows.length;
    }

    test('connections killed while idle are replaced: the next read and write succeed', async () => {
      await storage.setItems(1, 'tabs', [{ id: 'a', payload: 'before' }]);
      assert.ok((await killStorageConnections()) > 0);
      assert.equal((await storage.getItem(1, 'tabs', 'a')).payload, 'before');
      assert.ok((await killStorageConnections()) > 0);
      await storage.setItems(1, 'tabs', [{ id: 'b', payload: 'after' }]);
      assert.deepEqual((await storage.getItemIds(1, 'tabs')).items.sort(), ['a', 'b']);
    });

    test('a connection lost inside a transaction is StorageUnavailableError, nothing half-written', async () => {
      await assert.rejects(
        storage.withWriteLock(2, 'tabs', async (tx) => {
          await tx.setItems(2, 'tabs', [{ id: 'x', payload: 'in the lost transaction' }]);
          await killStorageConnections();
          return tx.setItems(2, 'tabs', [{ id: 'y', payload: 'y' }]);
        }),
        StorageUnavailableError,
      );
      assert.deepEqual(await storage.getCollectionTimestamps(2), {});
      await storage.setItems(2, 'tabs', [{ id: 'z', payload: 'z' }]);
      assert.deepEqual((await storage.getItemIds(2, 'tabs')).items, ['z']);
    });

    test('a deadlock is ConflictError', async () => {
      const driver = new MysqlDriver({ url: `${url.replace(/\/[^/]*$/, '')}/${database}` });
      const [a, b] = [await driver.acquireWrite(1000), await driver.acquireWrite(1000)];
      try {
        await a.executor.run('CREATE TABLE IF NOT EXISTS deadlock_probe (id INT PRIMARY KEY)');
        await a.executor.run('INSERT IGNORE INTO deadlock_probe VALUES (1), (2)');
        await a.executor.run('START TRANSACTION');
        await b.executor.run('START TRANSACTION');
        await a.executor.run('SELECT id FROM deadlock_probe WHERE id = 1 FOR UPDATE');
        await b.executor.run('SELECT id FROM deadlock_probe WHERE id = 2 FOR UPDATE');
        const waiting = a.executor.run('SELECT id FROM deadlock_probe WHERE id = 2 FOR UPDATE');
        waiting.catch(() => undefined);
        // One of the two is chosen as the victim; the other then gets its row.
        const results = await Promise.allSettled([
          b.executor.run('SELECT id FROM deadlock_probe WHERE id = 1 FOR UPDATE'),
          waiting,
        ]);
        const failed = results.filter((r) => r.status === 'rejected');
        assert.equal(failed.length, 1);
        assert.ok(driver.translateError(failed[0]!.reason) instanceof ConflictError);
      } finally {
        await a.executor.run('ROLLBACK').catch(() => undefined);
        await b.executor.run('ROLLBACK').catch(() => undefined);
        a.release();
        b.release();
        await driver.close();
      }
    });

    test('an owner claim excludes every other claim on its database, not on another one', async () => {
      const base = url.replace(/\/[^/]*$/, '');
      const other = await server.createDatabase('claims_other');
      const drivers = [1, 2, 3].map(
        (n) => new MysqlDriver({ url: n === 3 ? other : `${base}/${database}` }),
      );
      const [first, second, elsewhere] = drivers as [MysqlDriver, MysqlDriver, MysqlDriver];
      try {
        const owner = await first.claim('owner');
        await assert.rejects(second.claim('owner'), DatabaseClaimedError);
        await assert.rejects(second.claim('sharer'), DatabaseClaimedError);
        await (await elsewhere.claim('owner')).release();
        await owner.release();
        const sharer = await second.claim('sharer');
        await sharer.release();
      } finally {
        await Promise.all(drivers.map((driver) => driver.close()));
      }
    });

    test('utf8mb4 payloads, ids that differ by case or a trailing space, payloads past 64 KB', async () => {
      const big = 'x'.repeat(300_000);
      await storage.setItems(3, 'forms', [
        { id: 'a', payload: '🦊 emoji and ünïcödé' },
        { id: 'a ', payload: 'trailing space' },
        { id: 'A', payload: 'capital' },
        { id: 'big', payload: big },
      ]);
      assert.equal((await storage.getItem(3, 'forms', 'a')).payload, '🦊 emoji and ünïcödé');
      assert.equal((await storage.getItem(3, 'forms', 'a ')).payload, 'trailing space');
      assert.equal((await storage.getItem(3, 'forms', 'A')).payload, 'capital');
      assert.equal((await storage.getItem(3, 'forms', 'big')).payload.length, big.length);
      // Byte order, as SQLite and PostgreSQL's C collation: 'A' < 'a' < 'a ' < 'big'.
      assert.deepEqual((await storage.getItemIds(3, 'forms', { sort: 'index' })).items, [
        'big',
        'a ',
        'a',
        'A',
      ]);
    });
  });

  // Last: it stops the file's server.
  describe('the server going away', () => {
    test('healthCheck reports it and calls fail with StorageUnavailableError, no crash', async () => {
      const storage = await openSqlStorage({ url: await server.createDatabase('down') });
      try {
        await storage.setItems(1, 'tabs', [{ id: 'a', payload: 'p' }]);
        assert.deepEqual(await storage.healthCheck(), { database: true });
        await server.stop();
        assert.deepEqual(await storage.healthCheck(), { database: false });
        await assert.rejects(storage.getStorageTimestamp(1), StorageUnavailableError);
        await assert.rejects(
          storage.setItems(1, 'tabs', [{ id: 'b', payload: 'p' }]),
          StorageUnavailableError,
        );
      } finally {
        await storage.close();
      }
    });
  });
});
