/** `SqlExecutor.rows`: rows as arrays in SELECT order, on each driver, equal to `all`. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDriver } from '../../src/sql/sqlite-driver.js';
import type { SqlDriver } from '../../src/sql/sql-types.js';
import { startPostgres, type PostgresServer } from '@syncstorage-ts/test-support';
import { skipUnless } from '../storage/support/storage-backends.js';

function rowsSuite(open: () => Promise<SqlDriver>): void {
  test('rows gives arrays in SELECT order, the same values as all', async () => {
    const driver = await open();
    const lease = await driver.acquireWrite(5000);
    try {
      const { executor } = lease;
      await executor.run('CREATE TABLE t (a INTEGER, b TEXT, c BIGINT)');
      await executor.run("INSERT INTO t (a, b, c) VALUES (1, 'x', 1700000000123), (2, 'y', 5)");
      const sql = 'SELECT c, a, b FROM t WHERE a >= ? ORDER BY a';
      const rows = await executor.rows(sql, [1]);
      assert.deepEqual(
        rows.map(([c, a, b]) => [Number(c), Number(a), b]),
        [
          [1700000000123, 1, 'x'],
          [5, 2, 'y'],
        ],
      );
      const objects = await executor.all<{ a: number; b: string; c: number }>(sql, [1]);
      assert.deepEqual(
        rows.map((r) => r.map(String)),
        objects.map((o) => [o.c, o.a, o.b].map(String)),
      );
      assert.deepEqual(await executor.rows(sql, [3]), []);
      // The same SQL through all and rows: separate prepared statements, no mode leaks.
      assert.ok(!Array.isArray((await executor.all(sql, [1]))[0]));
    } finally {
      lease.release();
      await driver.close();
    }
  });
}

describe('SqlExecutor.rows (sqlite)', skipUnless('sqlite'), () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'syncstorage-rows-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  rowsSuite(async () => new SqliteDriver({ path: join(dir, 'rows.sqlite') }));
});

describe('SqlExecutor.rows (postgres)', skipUnless('postgres'), () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());
  rowsSuite(async () => {
    const { PostgresDriver } = await import('../../src/sql/postgres-driver.js');
    return new PostgresDriver({ url: await server.createDatabase(`rows_${process.pid}`) });
  });
});
