import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@syncstorage-ts/test-support';
import { StorageInputError, StorageUnavailableError } from '../../src/storage/errors.js';
import { openSqlStorage, sqlitePathOf } from '../../src/storage/sql/index.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncstorage-open-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('sqlite URLs: relative, absolute, memory', () => {
  assert.equal(sqlitePathOf('sqlite:./data/sync.db'), './data/sync.db');
  assert.equal(sqlitePathOf('sqlite:data/sync.db'), 'data/sync.db');
  assert.equal(sqlitePathOf('sqlite:///var/lib/sync.db'), '/var/lib/sync.db');
  assert.equal(sqlitePathOf('sqlite:/var/lib/sync.db'), '/var/lib/sync.db');
  assert.equal(sqlitePathOf('sqlite::memory:'), ':memory:');
});

test('a sqlite file in a folder that does not exist yet is created, in WAL mode', async () => {
  const path = join(dir, 'a', 'b', 'sync.db');
  const storage = await openSqlStorage({ url: `sqlite:${path}` });
  try {
    await storage.setItems(1, 'tabs', [{ id: 't', payload: 'p' }]);
    assert.ok(existsSync(path));
    assert.ok(existsSync(`${path}-wal`));
  } finally {
    await storage.close();
  }
  const reopened = await openSqlStorage({ url: `sqlite:${path}` });
  try {
    assert.equal((await reopened.getItem(1, 'tabs', 't')).payload, 'p');
  } finally {
    await reopened.close();
  }
});

test('a mysql:// server that is not there is unavailable; unknown schemes are refused', async () => {
  const port = await freePort();
  await assert.rejects(
    openSqlStorage({ url: `mysql://u:p@127.0.0.1:${port}/sync` }),
    (error: unknown) =>
      error instanceof StorageUnavailableError && /MySQL is unavailable/.test(error.message),
  );
  await assert.rejects(openSqlStorage({ url: 'redis://x' }), StorageInputError);
  await assert.rejects(openSqlStorage({ url: 'no scheme' }), StorageInputError);
});

test('a closed storage reports the database down and refuses calls', async () => {
  const storage = await openSqlStorage({ url: 'sqlite::memory:' });
  assert.deepEqual(await storage.healthCheck(), { database: true });
  await storage.close();
  assert.deepEqual(await storage.healthCheck(), { database: false });
  await assert.rejects(storage.getStorageTimestamp(1), /closed/);
});
