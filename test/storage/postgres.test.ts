import { after, before, describe } from 'node:test';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { startPostgres, type PostgresServer } from '@syncstorage-ts/test-support';
import { registerSyncStorageConformance } from './conformance.js';
import { skipUnless } from './support/storage-backends.js';

describe('PostgreSQL', skipUnless('postgres'), () => {
  let server: PostgresServer;
  let url = '';
  before(async () => {
    server = await startPostgres();
    url = await server.createDatabase('conformance');
  });
  after(() => server?.stop());

  registerSyncStorageConformance({
    name: 'postgres',
    // One database for the spec; every test uses user ids of its own.
    create: async ({ clock }) => ({
      storage: await openSqlStorage({ url, clock, lockTimeoutMs: 3000 }),
    }),
    capabilities: { clock: true, runningTotal: true },
  });
});
