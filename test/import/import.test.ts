/**
 * `syncstorage import`: each source built from its published DDL and filled
 * as that server would, imported into our SQLite, then read as a client
 * through our HTTP server: every item and timestamp the same. Then the
 * refusals (unknown schema, a source being written, different target data),
 * resuming a crashed import, and the CLI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  startMariadb,
  startPostgres,
  type MariadbServer,
  type PostgresServer,
} from '@syncstorage-ts/test-support';
import { runImport, SourceBeingWrittenError } from '../../src/import/import-run.js';
import { UnknownSourceError } from '../../src/import/source-schema.js';
import { TOKENSERVER_SQL } from '../../src/tokenserver/tokenserver-schema.js';
import { buildApp } from '../../src/server/app.js';
import { openSqlDriver } from '../../src/sql/open-sql-driver.js';
import type { SqlDriver } from '../../src/sql/sql-types.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import {
  rawMysql,
  rawPostgres,
  rawSqlite,
  type RawDatabase,
} from '../storage/support/raw-database.js';
import { skipUnless } from '../storage/support/storage-backends.js';
import { injectTransport, SyncClient } from '../support/sync-client.js';

const SECRET = 'import test master secret';
const MAX_TTL = 2_100_000_000;
// The old server was stopped an hour ago.
const T0 = Math.floor((Date.now() - 3_600_000) / 10) * 10;
const nowSeconds = Math.floor(Date.now() / 1000);

interface Item {
  id: string;
  sortindex: number | null;
  payload: string;
  modified: number;
  expirySeconds: number;
}

/** What each source holds, in its own terms: user → collection → items. */
const USERS: Record<number, Record<string, { ts: number; items: Item[] }>> = {
  7: {
    bookmarks: {
      ts: T0 + 20,
      items: [
        {
          id: 'b1',
          sortindex: 5,
          payload: '{"t":"one é"}',
          modified: T0 + 10,
          expirySeconds: MAX_TTL,
        },
        {
          id: 'b2',
          sortindex: null,
          payload: '{"t":"two"}',
          modified: T0 + 20,
          expirySeconds: nowSeconds + 86_400,
        },
      ],
    },
    mycustom: {
      ts: T0 + 30,
      items: [
        { id: 'c1', sortindex: 1, payload: 'custom', modified: T0 + 30, expirySeconds: MAX_TTL },
      ],
    },
  },
  8: {
    tabs: {
      ts: T0 + 40,
      items: Array.from({ length: 25 }, (_, n) => ({
        id: `tab${String(n).padStart(2, '0')}`,
        sortindex: n,
        payload: `tab ${n}`,
        modified: T0 + 40 - n * 10,
        expirySeconds: MAX_TTL,
      })),
    },
  },
};

const STANDARD: Record<string, number> = { bookmarks: 7, tabs: 9 };

/** Mozilla's old Python server: server-syncstorage's tables, sharded by userid % 2. */
async function fillOldServer(db: RawDatabase): Promise<void> {
  await db.exec(`CREATE TABLE collections (collectionid INTEGER NOT NULL, name VARCHAR(32) NOT NULL,
    PRIMARY KEY (collectionid), UNIQUE (name))`);
  await db.exec(`CREATE TABLE user_collections (userid INTEGER NOT NULL, collection INTEGER NOT NULL,
    last_modified BIGINT NOT NULL, PRIMARY KEY (userid, collection))`);
  for (const n of [0, 1]) {
    await db.exec(`CREATE TABLE bso${n} (userid INTEGER NOT NULL, collection INTEGER NOT NULL,
      id VARCHAR(64) NOT NULL, sortindex INTEGER, modified BIGINT NOT NULL, payload TEXT NOT NULL,
      payload_size INTEGER DEFAULT 0 NOT NULL, ttl INTEGER DEFAULT ${MAX_TTL} NOT NULL,
      PRIMARY KEY (userid, collection, id))`);
  }
  await db.exec("INSERT INTO collections VALUES (99, ''), (100, 'mycustom')");
  for (const [uid, collections] of Object.entries(USERS)) {
    for (const [name, { ts, items }] of Object.entries(collections)) {
      const cid = STANDARD[name] ?? 100;
      await db.exec('INSERT INTO user_collections VALUES (?, ?, ?)', [uid, cid, ts]);
      for (const item of items) {
        await db.exec(
          `INSERT INTO bso${Number(uid) % 2} (userid, collection, id, sortindex, modified, payload, payload_size, ttl) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            uid,
            cid,
            item.id,
            item.sortindex,
            item.modified,
            item.payload,
            item.payload.length,
            item.expirySeconds,
          ],
        );
      }
    }
  }
}

/**
 * syncstorage-rs on MySQL, as its migrations leave it (init, column renames
 * of 2019-09-11, min_collection_id, change_userid, new_batch, add_quota):
 * ttl in milliseconds, collections(id, name), latin1 tables.
 */
async function fillSyncstorageRsMysql(db: RawDatabase): Promise<void> {
  await db.exec(`CREATE TABLE bso (userid BIGINT NOT NULL, collection INT NOT NULL,
    id VARCHAR(64) NOT NULL, sortindex INT, payload MEDIUMTEXT NOT NULL, modified BIGINT NOT NULL,
    ttl BIGINT NOT NULL, payload_size INT DEFAULT 0, PRIMARY KEY (userid, collection, id),
    KEY bso_expiry_idx (ttl), KEY bso_usr_col_mod_idx (userid, collection, modified))
    ENGINE=InnoDB DEFAULT CHARSET=latin1`);
  await db.exec(`CREATE TABLE collections (id INT PRIMARY KEY NOT NULL AUTO_INCREMENT,
    name VARCHAR(32) UNIQUE NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=latin1`);
  await db.exec(`CREATE TABLE user_collections (userid BIGINT NOT NULL, collection INT NOT NULL,
    last_modified BIGINT NOT NULL, total_bytes BIGINT, count INT,
    PRIMARY KEY (userid, collection)) ENGINE=InnoDB DEFAULT CHARSET=latin1`);
  await db.exec(`CREATE TABLE batch_uploads (batch BIGINT NOT NULL, userid BIGINT NOT NULL,
    collection INT NOT NULL, PRIMARY KEY (batch, userid)) ENGINE=InnoDB DEFAULT CHARSET=latin1`);
  await db.exec(`CREATE TABLE batch_upload_items (batch BIGINT NOT NULL, userid BIGINT NOT NULL,
    id VARCHAR(64) NOT NULL, sortindex INT DEFAULT NULL, payload MEDIUMTEXT, payload_size INT DEFAULT NULL,
    ttl_offset INT DEFAULT NULL, PRIMARY KEY (batch, userid, id)) ENGINE=InnoDB DEFAULT CHARSET=latin1`);
  await db.exec(`INSERT INTO collections (id, name) VALUES (1, 'clients'), (2, 'crypto'), (3, 'forms'),
    (4, 'history'), (5, 'keys'), (6, 'meta'), (7, 'bookmarks'), (8, 'prefs'), (9, 'tabs'),
    (10, 'passwords'), (11, 'addons'), (12, 'addresses'), (13, 'creditcards'), (100, ''), (101, 'mycustom')`);
  for (const [uid, collections] of Object.entries(USERS)) {
    for (const [name, { ts, items }] of Object.entries(collections)) {
      const cid = STANDARD[name] ?? 101;
      await db.exec('INSERT INTO user_collections VALUES (?, ?, ?, ?, ?)', [
        uid,
        cid,
        ts,
        0,
        items.length,
      ]);
      for (const item of items) {
        // syncstorage-rs stores expiry in ms; "never" is its default 3153600000000.
        const ttl = item.expirySeconds === MAX_TTL ? 3_153_600_000_000 : item.expirySeconds * 1000;
        await db.exec(
          'INSERT INTO bso (userid, collection, id, sortindex, payload, modified, ttl, payload_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          [
            uid,
            cid,
            item.id,
            item.sortindex,
            item.payload,
            item.modified,
            ttl,
            item.payload.length,
          ],
        );
      }
    }
  }
  // A pending batch: skipped.
  await db.exec('INSERT INTO batch_uploads VALUES (?, 7, 7)', [T0 + 7]);
  await db.exec(
    "INSERT INTO batch_upload_items (batch, userid, id, payload) VALUES (?, 7, 'pending', 'x')",
    [T0 + 7],
  );
}

/**
 * syncstorage-rs on PostgreSQL, as its migration leaves it
 * (syncstorage-postgres/migrations/2025-10-20-155711_create_schema):
 * user_id (the token server's uid), TIMESTAMPTZ modified and expiry,
 * bso_id, collections(collection_id, name) with the standard ids and
 * custom ones from 101.
 */
async function fillSyncstorageRsPostgres(db: RawDatabase): Promise<void> {
  await db.exec(`CREATE TABLE user_collections (user_id BIGINT NOT NULL, collection_id INTEGER NOT NULL,
    modified TIMESTAMPTZ NOT NULL, count BIGINT, total_bytes BIGINT, PRIMARY KEY (user_id, collection_id))`);
  await db.exec(`CREATE TABLE bsos (user_id BIGINT NOT NULL, collection_id INTEGER NOT NULL,
    bso_id TEXT NOT NULL, sortindex INTEGER, payload TEXT NOT NULL, modified TIMESTAMPTZ NOT NULL,
    expiry TIMESTAMPTZ NOT NULL, PRIMARY KEY (user_id, collection_id, bso_id),
    FOREIGN KEY (user_id, collection_id) REFERENCES user_collections (user_id, collection_id) ON DELETE CASCADE)`);
  await db.exec('CREATE INDEX bsos_modified_idx ON bsos (user_id, collection_id, modified DESC)');
  await db.exec('CREATE INDEX bsos_expiry_idx ON bsos (user_id, collection_id, expiry)');
  await db.exec(`CREATE TABLE collections (collection_id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name VARCHAR(32) NOT NULL UNIQUE)`);
  await db.exec(`INSERT INTO collections (collection_id, name) VALUES (1, 'clients'), (2, 'crypto'),
    (3, 'forms'), (4, 'history'), (5, 'keys'), (6, 'meta'), (7, 'bookmarks'), (8, 'prefs'), (9, 'tabs'),
    (10, 'passwords'), (11, 'addons'), (12, 'addresses'), (13, 'creditcards')`);
  await db.exec('ALTER TABLE collections ALTER COLUMN collection_id RESTART WITH 101');
  await db.exec(`CREATE TABLE batches (user_id BIGINT NOT NULL, collection_id INTEGER NOT NULL,
    batch_id UUID NOT NULL, expiry TIMESTAMPTZ NOT NULL, PRIMARY KEY (user_id, collection_id, batch_id),
    FOREIGN KEY (user_id, collection_id) REFERENCES user_collections (user_id, collection_id) ON DELETE CASCADE)`);
  await db.exec(`CREATE TABLE batch_bsos (user_id BIGINT NOT NULL, collection_id INTEGER NOT NULL,
    batch_id UUID NOT NULL, batch_bso_id TEXT NOT NULL, sortindex INTEGER, payload TEXT, ttl BIGINT,
    PRIMARY KEY (user_id, collection_id, batch_id, batch_bso_id),
    FOREIGN KEY (user_id, collection_id, batch_id) REFERENCES batches (user_id, collection_id, batch_id)
    ON DELETE CASCADE)`);
  // A custom collection gets the next identity (101), as syncstorage-rs creates it.
  await db.exec("INSERT INTO collections (name) VALUES ('mycustom')");
  for (const [uid, collections] of Object.entries(USERS)) {
    for (const [name, { ts, items }] of Object.entries(collections)) {
      const cid = STANDARD[name] ?? 101;
      await db.exec('INSERT INTO user_collections VALUES (?, ?, to_timestamp(? / 1000.0), ?, ?)', [
        uid,
        cid,
        ts,
        items.length,
        0,
      ]);
      for (const item of items) {
        // "Never" is syncstorage-rs's default ttl, 100 years on.
        const expiry = item.expirySeconds === MAX_TTL ? 3_153_600_000 : item.expirySeconds;
        await db.exec(
          `INSERT INTO bsos (user_id, collection_id, bso_id, sortindex, payload, modified, expiry)
           VALUES (?, ?, ?, ?, ?, to_timestamp(? / 1000.0), to_timestamp(?))`,
          [uid, cid, item.id, item.sortindex, item.payload, item.modified, expiry],
        );
      }
    }
  }
  // A pending batch: skipped.
  await db.exec(
    "INSERT INTO batches VALUES (7, 7, '5f0c2f9e-0000-4000-8000-000000000001', to_timestamp(?))",
    [nowSeconds + 3600],
  );
  await db.exec(
    "INSERT INTO batch_bsos (user_id, collection_id, batch_id, batch_bso_id, payload) VALUES (7, 7, '5f0c2f9e-0000-4000-8000-000000000001', 'pending', 'x')",
  );
}

/** Read everything back as Firefox would, through our HTTP server. */
async function assertSyncsAsBefore(targetUrl: string): Promise<void> {
  const storage = await openSqlStorage({ url: targetUrl });
  const app = buildApp({ storage, config: { masterSecret: SECRET } });
  await app.ready();
  try {
    for (const [uid, collections] of Object.entries(USERS)) {
      const client = new SyncClient({
        masterSecret: SECRET,
        uid: Number(uid),
        transport: injectTransport(app),
      });
      const info = await client.request('GET', '/info/collections');
      assert.equal(info.status, 200);
      const expected = Object.fromEntries(
        Object.entries(collections).map(([name, { ts }]) => [name, ts / 1000]),
      );
      assert.deepEqual(info.json(), expected);
      for (const [name, { items }] of Object.entries(collections)) {
        const res = await client.request('GET', `/storage/${name}?full=1&sort=oldest`);
        assert.equal(res.status, 200);
        const got = (res.json() as Array<Record<string, unknown>>).map((bso) => ({
          id: bso.id,
          sortindex: bso.sortindex ?? null,
          payload: bso.payload,
          modified: Math.round(Number(bso.modified) * 1000),
        }));
        const want = [...items]
          .sort((a, b) => a.modified - b.modified || (a.id < b.id ? -1 : 1))
          .map(({ id, sortindex, payload, modified }) => ({ id, sortindex, payload, modified }));
        assert.deepEqual(got, want);
      }
    }
    // Expiry kept: the item with a day left still has it.
    const b2 = await storage.getItem(7, 'bookmarks', 'b2');
    assert.equal(b2.expiry, nowSeconds + 86_400);
  } finally {
    await app.close();
    await storage.close();
  }
}

async function importInto(
  source: SqlDriver,
  targetUrl: string,
  options: {
    overwrite?: boolean;
    chunkRows?: number;
    quietSeconds?: number;
    tokenserverSource?: SqlDriver;
  } = {},
) {
  const target = await openSqlDriver({ url: targetUrl });
  const targetStorage = await openSqlStorage({ url: targetUrl, driver: target });
  try {
    return await runImport({
      source,
      target,
      targetStorage,
      sourceLabel: 'test',
      chunkRows: options.chunkRows ?? 10,
      overwrite: options.overwrite,
      quietSeconds: options.quietSeconds,
      tokenserverSource: options.tokenserverSource,
    });
  } finally {
    await targetStorage.close();
  }
}

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncstorage-import-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("import from Mozilla's old Python server (SQLite, two shards)", () => {
  test('every item and timestamp syncs as before; a rerun changes nothing; different data is refused', async () => {
    const sourcePath = join(dir, 'old.db');
    const raw = rawSqlite(sourcePath);
    await fillOldServer(raw);
    const source = await openSqlDriver({ url: `sqlite:${sourcePath}` });
    const targetUrl = `sqlite:${join(dir, 'target-old.db')}`;
    try {
      const result = await importInto(source, targetUrl);
      assert.equal(result.schema.kind, 'server-syncstorage');
      assert.deepEqual(result.schema.bsoTables, ['bso0', 'bso1']);
      assert.equal(result.imported, 2);
      assert.equal(result.rows, 28);
      assert.deepEqual(result.differences, []);
      await assertSyncsAsBefore(targetUrl);
      // Resumed or rerun: done users are skipped, nothing duplicated.
      const again = await importInto(source, targetUrl);
      assert.equal(again.imported, 0);
      assert.equal(again.skipped, 2);
      await assertSyncsAsBefore(targetUrl);

      // The source changes (say, a row edited): the target now differs.
      await raw.exec("UPDATE bso1 SET payload = 'edited' WHERE id = 'b1'");
      const fresh = `sqlite:${join(dir, 'target-differs.db')}`;
      await importInto(source, fresh);
      await raw.exec("UPDATE bso1 SET payload = 'edited again' WHERE id = 'b1'");
      // Without the progress marks (another import's target): drop them to force the check.
      const target = rawSqlite(fresh.slice('sqlite:'.length));
      await target.exec('DELETE FROM syncstorage_import');
      await target.close();
      const refused = await importInto(source, fresh);
      assert.deepEqual(
        refused.refused.map((r) => r.userId),
        [7],
      );
      assert.equal(refused.skipped, 1); // user 8 is identical
      const overwritten = await importInto(source, fresh, { overwrite: true });
      assert.equal(overwritten.imported, 1);
      assert.deepEqual(overwritten.differences, []);
    } finally {
      await source.close();
      await raw.close();
    }
  });

  test('a crash mid-user is redone from scratch on resume, without duplicates', async () => {
    const sourcePath = join(dir, 'old-crash.db');
    const raw = rawSqlite(sourcePath);
    await fillOldServer(raw);
    await raw.close();
    const source = await openSqlDriver({ url: `sqlite:${sourcePath}` });
    const targetUrl = `sqlite:${join(dir, 'target-crash.db')}`;
    try {
      await importInto(source, targetUrl);
      // As if killed after user 8's first chunk: marked started, half its rows there.
      const target = rawSqlite(targetUrl.slice('sqlite:'.length));
      await target.exec("UPDATE syncstorage_import SET state = 'started' WHERE userid = 8");
      await target.exec("DELETE FROM bso WHERE userid = 8 AND id >= 'tab10'");
      await target.close();
      const resumed = await importInto(source, targetUrl);
      assert.equal(resumed.imported, 1);
      assert.equal(resumed.skipped, 1);
      assert.deepEqual(resumed.differences, []);
      await assertSyncsAsBefore(targetUrl);
    } finally {
      await source.close();
    }
  });

  test('--tokenserver-from: users, nodes and services come from a separate database', async () => {
    const sourcePath = join(dir, 'old-apart.db');
    const raw = rawSqlite(sourcePath);
    await fillOldServer(raw);
    await raw.close();
    // The token server's own database (tokenserver-sqlite's tables), apart from storage.
    const tokensPath = join(dir, 'tokenserver-apart.db');
    const tokensRaw = rawSqlite(tokensPath);
    for (const sql of TOKENSERVER_SQL.sqlite.tables) await tokensRaw.exec(sql);
    await tokensRaw.exec(
      "INSERT INTO services (id, service, pattern) VALUES (5, 'sync-1.5', '{node}/1.5/{uid}')",
    );
    await tokensRaw.exec("INSERT INTO nodes VALUES (3, 5, 'https://old.example', 1, 2, 100, 0, 0)");
    await tokensRaw.exec('INSERT INTO users VALUES (?, 5, ?, ?, ?, ?, NULL, 3, ?)', [
      8,
      'b@api.accounts.firefox.com',
      21,
      'bbbb',
      T0,
      22,
    ]);
    await tokensRaw.close();
    const source = await openSqlDriver({ url: `sqlite:${sourcePath}` });
    const tokenserverSource = await openSqlDriver({ url: `sqlite:${tokensPath}` });
    const notTokens = await openSqlDriver({ url: `sqlite:${sourcePath}` });
    const targetUrl = `sqlite:${join(dir, 'target-apart.db')}`;
    try {
      // A database without the token server's tables is refused, naming the option.
      await assert.rejects(
        importInto(source, targetUrl, { tokenserverSource: notTokens }),
        (error: unknown) =>
          error instanceof UnknownSourceError && /--tokenserver-from/.test(error.message),
      );
      const result = await importInto(source, targetUrl, { tokenserverSource });
      assert.equal(result.schema.hasTokenserverTables, false);
      assert.deepEqual(result.tokenserver, { services: 0, nodes: 1, users: 1 });
      const tokens = rawSqlite(targetUrl.slice('sqlite:'.length));
      try {
        assert.deepEqual(
          await tokens.rows(
            `SELECT u.uid, u.generation, u.client_state, u.keys_changed_at, n.node
             FROM users u JOIN nodes n ON n.id = u.nodeid ORDER BY u.uid`,
          ),
          [
            {
              uid: 8,
              generation: 21,
              client_state: 'bbbb',
              keys_changed_at: 22,
              node: 'https://old.example',
            },
          ],
        );
      } finally {
        await tokens.close();
      }
      assert.deepEqual(result.differences, []);
      await assertSyncsAsBefore(targetUrl);
    } finally {
      await source.close();
      await tokenserverSource.close();
      await notTokens.close();
    }
  });

  test('an unknown schema and a source written a moment ago are refused', async () => {
    const path = join(dir, 'unknown.db');
    const raw = rawSqlite(path);
    await raw.exec('CREATE TABLE something (x INTEGER)');
    const source = await openSqlDriver({ url: `sqlite:${path}` });
    try {
      await assert.rejects(importInto(source, `sqlite:${join(dir, 't1.db')}`), UnknownSourceError);
      await raw.exec('DROP TABLE something');
      await fillOldServer(raw);
      await raw.exec('UPDATE user_collections SET last_modified = ? WHERE userid = 8', [
        Date.now() - 1000,
      ]);
      await assert.rejects(
        importInto(source, `sqlite:${join(dir, 't2.db')}`),
        (error: unknown) =>
          error instanceof SourceBeingWrittenError && /stop the old server/.test(error.message),
      );
    } finally {
      await source.close();
      await raw.close();
    }
  });
});

describe('import from syncstorage-rs on MySQL (MariaDB)', skipUnless('mariadb'), () => {
  let server: MariadbServer;
  before(async () => {
    server = await startMariadb();
  });
  after(() => server?.stop());

  test('ms expiry and its collection ids are mapped; pending batches skipped; everything syncs as before', async () => {
    const url = await server.createDatabase('syncstorage_rs');
    const raw = await rawMysql(url);
    await fillSyncstorageRsMysql(raw);
    // Its token server in the same database (tokenserver-mysql's tables).
    for (const sql of TOKENSERVER_SQL.mysql.tables) await raw.exec(sql);
    await raw.exec(
      "INSERT INTO services (id, service, pattern) VALUES (5, 'sync-1.5', '{node}/1.5/{uid}')",
    );
    await raw.exec("INSERT INTO nodes VALUES (3, 5, 'https://old.example', 1, 2, 100, 0, 0)");
    const user = 'INSERT INTO users VALUES (?, 5, ?, ?, ?, ?, NULL, 3, ?)';
    await raw.exec(user, [7, 'a@api.accounts.firefox.com', 11, 'aaaa', T0, 12]);
    await raw.exec(user, [8, 'b@api.accounts.firefox.com', 21, 'bbbb', T0, 22]);
    await raw.close();
    const source = await openSqlDriver({ url });
    const targetUrl = `sqlite:${join(dir, 'target-rs.db')}`;
    try {
      const result = await importInto(source, targetUrl);
      assert.equal(result.schema.kind, 'syncstorage-rs-mysql');
      assert.equal(result.rows, 28);
      assert.deepEqual(result.tokenserver, { services: 0, nodes: 1, users: 2 });
      const tokens = rawSqlite(targetUrl.slice('sqlite:'.length));
      try {
        const users = await tokens.rows(
          `SELECT u.uid, u.email, u.generation, u.client_state, u.keys_changed_at, n.node, s.service
           FROM users u JOIN nodes n ON n.id = u.nodeid JOIN services s ON s.id = u.service ORDER BY u.uid`,
        );
        assert.deepEqual(users, [
          {
            uid: 7,
            email: 'a@api.accounts.firefox.com',
            generation: 11,
            client_state: 'aaaa',
            keys_changed_at: 12,
            node: 'https://old.example',
            service: 'sync-1.5',
          },
          {
            uid: 8,
            email: 'b@api.accounts.firefox.com',
            generation: 21,
            client_state: 'bbbb',
            keys_changed_at: 22,
            node: 'https://old.example',
            service: 'sync-1.5',
          },
        ]);
      } finally {
        await tokens.close();
      }
      assert.deepEqual(result.differences, []);
      await assertSyncsAsBefore(targetUrl);
      const storage = await openSqlStorage({ url: targetUrl });
      try {
        await assert.rejects(storage.getItem(7, 'bookmarks', 'pending'));
      } finally {
        await storage.close();
      }
    } finally {
      await source.close();
    }
  });

  test('the CLI: --dry-run writes nothing, then the import prints progress and the verification', async () => {
    const url = await server.createDatabase('syncstorage_rs_cli');
    const raw = await rawMysql(url);
    await fillSyncstorageRsMysql(raw);
    await raw.close();
    // syncstorage-rs's tokenserver database, apart from storage.
    const tokensUrl = await server.createDatabase('tokenserver_rs_cli');
    const tokens = await rawMysql(tokensUrl);
    for (const sql of TOKENSERVER_SQL.mysql.tables) await tokens.exec(sql);
    await tokens.exec(
      "INSERT INTO services (id, service, pattern) VALUES (1, 'sync-1.5', '{node}/1.5/{uid}')",
    );
    await tokens.exec("INSERT INTO nodes VALUES (1, 1, 'https://old.example', 1, 2, 100, 0, 0)");
    await tokens.exec('INSERT INTO users VALUES (7, 1, ?, 11, ?, ?, NULL, 1, 12)', [
      'a@api.accounts.firefox.com',
      'aaaa',
      T0,
    ]);
    await tokens.close();
    const target = join(dir, 'cli-target.db');
    const run = (args: string[]) =>
      promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'import',
          '--from',
          url,
          '--database',
          `sqlite:${target}`,
          ...args,
        ],
        { cwd: join(import.meta.dirname, '..', '..') },
      );
    const dry = await run(['--dry-run']);
    assert.match(dry.stdout, /syncstorage-rs on MySQL/);
    assert.match(dry.stdout, /dry run: 2 users, 28 rows/);
    const done = await run(['--users', '7,8', '--tokenserver-from', tokensUrl]);
    assert.match(done.stdout, /token server: 1 users, 1 nodes, 0 services copied/);
    assert.match(done.stdout, /users 2\/2 .*rows 28/);
    assert.match(done.stdout, /verified: no differences/);
    await assertSyncsAsBefore(`sqlite:${target}`);
  });
});

describe('import from syncstorage-rs on PostgreSQL', skipUnless('postgres'), () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());

  test('user_id is the uid, TIMESTAMPTZ times become ms; pending batches skipped; everything syncs as before', async () => {
    const raw = await rawPostgres(server.url);
    await fillSyncstorageRsPostgres(raw);
    await raw.close();
    const source = await openSqlDriver({ url: server.url });
    const targetUrl = `sqlite:${join(dir, 'target-rs-pg.db')}`;
    try {
      const result = await importInto(source, targetUrl);
      assert.equal(result.schema.kind, 'syncstorage-rs-postgres');
      assert.equal(result.imported, 2);
      assert.equal(result.rows, 28);
      assert.deepEqual(result.differences, []);
      await assertSyncsAsBefore(targetUrl);
      const storage = await openSqlStorage({ url: targetUrl });
      try {
        await assert.rejects(storage.getItem(7, 'bookmarks', 'pending'));
        assert.equal((await storage.getItem(7, 'bookmarks', 'b1')).expiry, MAX_TTL);
      } finally {
        await storage.close();
      }
    } finally {
      await source.close();
    }
  });

  test('the draft keyed by fxa_uid / fxa_kid is refused', async () => {
    const url = await server.createDatabase('syncstorage_rs_fxa');
    const raw = await rawPostgres(url);
    await raw.exec(`CREATE TABLE user_collections (fxa_uid UUID NOT NULL, fxa_kid TEXT NOT NULL,
      collection_id BIGINT NOT NULL, modified TIMESTAMP NOT NULL, count BIGINT, total_bytes BIGINT,
      PRIMARY KEY (fxa_uid, fxa_kid, collection_id))`);
    await raw.exec(`CREATE TABLE bsos (fxa_uid UUID NOT NULL, fxa_kid TEXT NOT NULL,
      collection_id BIGINT NOT NULL, bso_id TEXT NOT NULL, sortindex BIGINT, payload BYTEA NOT NULL,
      modified TIMESTAMP NOT NULL, expiry TIMESTAMP NOT NULL,
      PRIMARY KEY (fxa_uid, fxa_kid, collection_id, bso_id))`);
    await raw.exec(
      'CREATE TABLE collections (collection_id BIGINT PRIMARY KEY, name VARCHAR(32) NOT NULL UNIQUE)',
    );
    await raw.close();
    const source = await openSqlDriver({ url });
    try {
      await assert.rejects(
        importInto(source, `sqlite:${join(dir, 'target-rs-fxa.db')}`),
        (error: unknown) => error instanceof UnknownSourceError && /fxa_uid/.test(error.message),
      );
    } finally {
      await source.close();
    }
  });
});
