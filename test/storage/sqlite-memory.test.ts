import { describe } from 'node:test';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { registerSyncStorageConformance } from './conformance.js';
import { skipUnless } from './support/storage-backends.js';

describe('SQLite in memory', skipUnless('sqlite'), () => {
  registerSyncStorageConformance({
    name: 'sqlite::memory:',
    create: async ({ clock }) => ({
      storage: await openSqlStorage({ url: 'sqlite::memory:', clock }),
    }),
    capabilities: { clock: true, runningTotal: true },
  });
});
