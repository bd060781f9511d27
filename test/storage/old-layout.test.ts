/**
 * A database written by the old Python server-syncstorage opens as it is.
 * The tables are built here with our own DDL, written from the layout of
 * `syncstorage/storage/sql/dbconnect.py` (as SQLAlchemy created it, with
 * standard collections, custom ids from 100), filled as the old server
 * would, then opened with `openSqlStorage`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import {
  startMariadb,
  startPostgres,
  type MariadbServer,
  type PostgresServer,
} from '@syncstorage-ts/test-support';
import { rawMysql, rawPostgres, rawSqlite, type RawDatabase } from './support/raw-database.js';
import { skipUnless } from './support/storage-backends.js';

const MAX_TTL = 2100000000;

function oldServerDdl(kind: RawDatabase['kind']): string[] {
  const serial =
    kind === 'postgres' ? 'SERIAL' : kind === 'mysql' ? 'INTEGER AUTO_INCREMENT' : 'INTEGER';
  return [
    `CREATE TABLE collections (collectionid ${serial} NOT NULL, name VARCHAR(32) NOT NULL,
       PRIMARY KEY (collectionid), UNIQUE (name))`,
    `CREATE TABLE user_collections (userid INTEGER NOT NULL, collection INTEGER NOT NULL,
       last_modified BIGINT NOT NULL, PRIMARY KEY (userid, collection))`,
    `CREATE TABLE migration (fxa_uid VARCHAR(255) NOT NULL, started_at BIGINT NOT NULL,
       state VARCHAR(32), PRIMARY KEY (fxa_uid))`,
    `CREATE TABLE bso (userid INTEGER NOT NULL, collection INTEGER NOT NULL, id VARCHAR(64) NOT NULL,
       sortindex INTEGER, modified BIGINT NOT NULL, payload TEXT NOT NULL,
       payload_size INTEGER DEFAULT 0 NOT NULL, ttl INTEGER DEFAULT ${MAX_TTL} NOT NULL,
       PRIMARY KEY (userid, collection, id))`,
    'CREATE INDEX bso_ttl_idx ON bso (ttl)',
    'CREATE INDEX bso_usr_col_mod_idx ON bso (userid, collection, modified)',
    `CREATE TABLE batch_uploads (batch BIGINT NOT NULL, userid INTEGER NOT NULL,
       collection INTEGER NOT NULL, PRIMARY KEY (batch, userid))`,
    `CREATE TABLE batch_upload_items (batch BIGINT NOT NULL, userid INTEGER NOT NULL,
       id VARCHAR(64) NOT NULL, sortindex INTEGER, payload TEXT, payload_size INTEGER,
       ttl_offset INTEGER, PRIMARY KEY (batch, userid, id))`,
  ];
}

const USER = 42;
const now = Date.now();
const nowSeconds = Math.floor(now / 1000);
const t1 = Math.floor(now / 10) * 10 - 60_000;
const t2 = t1 + 1230;
const batchId = t2 + 500 + (USER % 10);

/** Rows as the old server wrote them: standard ids in memory only, custom ids from 100. */
async function fillAsOldServer(db: RawDatabase): Promise<void> {
  for (const sql of oldServerDdl(db.kind)) await db.exec(sql);
  // The old server reserved the ids below 100 with a placeholder row.
  await db.exec("INSERT INTO collections (collectionid, name) VALUES (99, '')");
  await db.exec("INSERT INTO collections (collectionid, name) VALUES (100, 'mycustom')");
  const bso = `INSERT INTO bso (userid, collection, id, sortindex, modified, payload, payload_size, ttl)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
  await db.exec(bso, [USER, 7, 'bm1', 10, t1, 'first bookmark', 14, MAX_TTL]);
  await db.exec(bso, [USER, 7, 'bm2', null, t2, 'second', 6, MAX_TTL]);
  await db.exec(bso, [USER, 7, 'expired', null, t1, 'old', 3, nowSeconds - 100]);
  await db.exec(bso, [USER, 100, 'c1', 5, t1, 'custom', 6, nowSeconds + 3600]);
  await db.exec(bso, [USER + 1, 7, 'other', null, t1, 'not yours', 9, MAX_TTL]);
  const uc = 'INSERT INTO user_collections (userid, collection, last_modified) VALUES (?, ?, ?)';
  await db.exec(uc, [USER, 7, t2]);
  await db.exec(uc, [USER, 100, t1]);
  await db.exec(uc, [USER + 1, 7, t1]);
  // A batch in flight: items carry no `modified`; ttl_offset is relative.
  await db.exec('INSERT INTO batch_uploads (batch, userid, collection) VALUES (?, ?, ?)', [
    batchId,
    USER,
    7,
  ]);
  const bui = `INSERT INTO batch_upload_items (batch, userid, id, sortindex, payload, payload_size, ttl_offset)
               VALUES (?, ?, ?, ?, ?, ?, ?)`;
  await db.exec(bui, [batchId, USER, 'bm2', 99, null, null, null]);
  await db.exec(bui, [batchId, USER, 'bm3', null, 'from batch', 10, 3600]);
}

async function checkOpensAsIs(url: string, raw: RawDatabase): Promise<void> {
  const storage = await openSqlStorage({ url });
  try {
    assert.deepEqual(await storage.getCollectionTimestamps(USER), { bookmarks: t2, mycustom: t1 });
    assert.equal(await storage.getStorageTimestamp(USER), t2);
    assert.deepEqual(await storage.getCollectionCounts(USER), { bookmarks: 2, mycustom: 1 });
    assert.deepEqual(await storage.getCollectionSizes(USER), { bookmarks: 20, mycustom: 6 });
    const page = await storage.getItems(USER, 'bookmarks', { sort: 'newest' });
    assert.deepEqual(
      page.items.map((b) => [b.id, b.modified, b.payload, b.sortindex]),
      [
        ['bm2', t2, 'second', null],
        ['bm1', t1, 'first bookmark', 10],
      ],
    );
    assert.equal((await storage.getItem(USER, 'mycustom', 'c1')).expiry, nowSeconds + 3600);

    // The old server's open batch still works, and its ttl counts from our commit.
    assert.equal(await storage.validBatch(USER, 'bookmarks', String(batchId)), true);
    const applied = await storage.applyBatch(USER, 'bookmarks', String(batchId));
    assert.ok(applied > t2);
    const bm2 = await storage.getItem(USER, 'bookmarks', 'bm2');
    assert.deepEqual([bm2.payload, bm2.sortindex, bm2.modified], ['second', 99, t2]);
    const bm3 = await storage.getItem(USER, 'bookmarks', 'bm3');
    assert.equal(bm3.payload, 'from batch');
    assert.equal(bm3.expiry, Math.floor(applied / 1000) + 3600);

    // New writes land in the same tables, new names after the old custom ids.
    await storage.setItems(USER, 'another', [{ id: 'n', payload: 'new' }]);
    const ids = await raw.rows<{ collectionid: number; name: string }>(
      "SELECT collectionid, name FROM collections WHERE name IN ('another', 'mycustom', 'bookmarks') ORDER BY name",
    );
    assert.deepEqual(
      ids.map((r) => [r.name, Number(r.collectionid)]),
      [
        ['another', 101],
        ['bookmarks', 7],
        ['mycustom', 100],
      ],
    );
    const rows = await raw.rows<{ payload: string; payload_size: number; ttl: number }>(
      'SELECT payload, payload_size, ttl FROM bso WHERE userid = ? AND collection = 101',
      [USER],
    );
    assert.deepEqual(
      rows.map((r) => [r.payload, Number(r.payload_size), Number(r.ttl)]),
      [['new', 3, MAX_TTL]],
    );
    // Other users untouched.
    assert.deepEqual(await storage.getCollectionCounts(USER + 1), { bookmarks: 1 });
  } finally {
    await storage.close();
  }
  // Opening again (migrations already applied) changes nothing.
  const again = await openSqlStorage({ url });
  try {
    assert.equal((await again.getItem(USER, 'another', 'n')).payload, 'new');
  } finally {
    await again.close();
  }
}

describe('a database written by the old Python server (SQLite)', skipUnless('sqlite'), () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'syncstorage-old-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('opens as it is and reads and writes the same rows', async () => {
    const path = join(dir, 'old.db');
    const raw = rawSqlite(path);
    try {
      await fillAsOldServer(raw);
      await checkOpensAsIs(`sqlite:${path}`, raw);
    } finally {
      await raw.close();
    }
  });
});

describe('a database written by the old Python server (PostgreSQL)', skipUnless('postgres'), () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());

  test('opens as it is and reads and writes the same rows', async () => {
    const url = await server.createDatabase('old_layout');
    const raw = await rawPostgres(url);
    try {
      await fillAsOldServer(raw);
      await checkOpensAsIs(url, raw);
    } finally {
      await raw.close();
    }
  });
});

describe('a database written by the old Python server (MariaDB)', skipUnless('mariadb'), () => {
  let server: MariadbServer;
  before(async () => {
    server = await startMariadb();
  });
  after(() => server?.stop());

  test('opens as it is and reads and writes the same rows', async () => {
    const url = await server.createDatabase('old_layout');
    const raw = await rawMysql(url);
    try {
      await fillAsOldServer(raw);
      await checkOpensAsIs(url, raw);
    } finally {
      await raw.close();
    }
  });
});
