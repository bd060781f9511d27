import { after, before, describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { registerSyncStorageConformance } from './conformance.js';
import { skipUnless } from './support/storage-backends.js';

describe('SQLite file (WAL)', skipUnless('sqlite'), () => {
  let dir = '';
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'syncstorage-sqlite-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  registerSyncStorageConformance({
    name: 'sqlite file',
    // A fresh file per test, in a folder that does not exist yet.
    create: async ({ clock }) => ({
      storage: await openSqlStorage({
        url: `sqlite:${join(dir, `db${++n}`, 'sync.db')}`,
        clock,
        sqlite: { synchronous: 'NORMAL' },
      }),
    }),
    capabilities: { clock: true, runningTotal: true },
  });
});
