/**
 * `syncstorage usage` and `users delete|quota` on a database directly, and
 * through a running admin listener with --admin-url.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { ADMIN_TOKEN, openOperator, type Operator } from '../admin/admin-setup.js';

const run = promisify(execFile);
const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { timeout: 30_000 });

describe('usage and users delete|quota', () => {
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'syncstorage-usage-'));
    const storage = await openSqlStorage({ url: `sqlite:${join(dir, 'syncstorage.db')}` });
    await storage.setItems(5, 'bookmarks', [{ id: 'a', payload: 'x'.repeat(3000) }]);
    await storage.setItems(6, 'history', [{ id: 'b', payload: 'y'.repeat(10) }]);
    await storage.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('on the database: top users, quota, a delete refused without --yes, then done', async () => {
    const usage = JSON.parse((await cli('usage', '--data-dir', dir, '--json')).stdout) as {
      totals: { users: number; bytes: number };
      users: Array<{ userId: number }>;
    };
    assert.deepEqual(usage.totals, { users: 2, items: 2, bytes: 3010 });
    assert.deepEqual(
      usage.users.map((u) => u.userId),
      [5, 6],
    );
    assert.match((await cli('users', 'quota', '5', '2MB', '--data-dir', dir)).stdout, /2\.0 MB/);
    await assert.rejects(
      cli('users', 'delete', '5', '--data-dir', dir),
      (error: { stderr: string }) => /pass --yes/.test(error.stderr),
    );
    await cli('users', 'delete', '5', '--data-dir', dir, '--yes');
    const after = JSON.parse((await cli('usage', '--data-dir', dir, '--json')).stdout) as {
      users: Array<{ userId: number }>;
    };
    assert.deepEqual(
      after.users.map((u) => u.userId),
      [6],
    );
    await assert.rejects(cli('users', 'quota', 'x', '1', '--data-dir', dir), /invalid uid/);
  });

  describe('through the admin listener', () => {
    let op: Operator;
    let url = '';
    before(async () => {
      op = await openOperator('sqlite');
      await op.client(77).post('/storage/forms', [{ id: 'f', payload: 'z'.repeat(50) }]);
      url = await op.admin.listen({ host: '127.0.0.1', port: 0 });
    });
    after(() => op.close());

    test('the same commands over the JSON API, and a wrong token said so', async () => {
      const args = ['--admin-url', url, '--admin-token', ADMIN_TOKEN, '--data-dir', dir];
      assert.match((await cli('usage', ...args)).stdout, /uid 77 {2}50 B/);
      await cli('users', 'quota', '77', '1000', ...args);
      assert.equal(await op.storage.getUserQuota(77), 1000);
      await cli('users', 'delete', '77', '--yes', ...args);
      assert.deepEqual(await op.storage.getCollectionCounts(77), {});
      await assert.rejects(
        cli('usage', '--admin-url', url, '--admin-token', 'wrong-token-but-long-enough'),
        /401.*wrong admin token/,
      );
    });
  });
});
