import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageUnavailableError } from '../../src/storage/errors.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { startPostgres } from '@syncstorage-ts/test-support';
import { skipUnless } from './support/storage-backends.js';

describe('PostgreSQL going away', skipUnless('postgres'), () => {
  test('healthCheck reports it and calls fail with StorageUnavailableError, no crash', async () => {
    const server = await startPostgres();
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
      await server.stop();
    }
  });
});
