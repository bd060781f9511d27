/**
 * `syncstorage backup` under write load, then `restore` into an empty data
 * folder: every write acknowledged before the backup began is in the copy.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { backupSqlite } from '../../src/cli/backup-commands.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';

const run = promisify(execFile);
const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { timeout: 30_000 });

const dir = mkdtempSync(join(tmpdir(), 'syncstorage-backup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test(
  'a backup under write load holds every write acknowledged before it began; restore puts it back',
  { timeout: 60_000 },
  async () => {
    const source = join(dir, 'live', 'syncstorage.db');
    const storage = await openSqlStorage({ url: `sqlite:${source}` });
    const acknowledged: string[] = [];
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) {
        const id = `w${n++}`;
        await storage.setItems(1 + (n % 3), 'history', [{ id, payload: 'p'.repeat(200) }]);
        acknowledged.push(id);
        // SQLite answers within the microtask queue: yield so the test runs too.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    while (acknowledged.length < 200) await new Promise((resolve) => setImmediate(resolve));
    const before = [...acknowledged];
    const steps: number[] = [];
    const target = join(dir, 'backup.db');
    const items = await backupSqlite(source, target, (done) => steps.push(done));
    writing = false;
    await writer;
    await storage.close();
    assert.ok(steps.length > 0, 'progress reported');
    assert.ok(items >= before.length, `${items} items in the copy`);
    await assert.rejects(backupSqlite(source, target), /exists/);

    const restored = join(dir, 'restored');
    const out = await cli('restore', '--from', target, '--data-dir', restored);
    assert.match(out.stdout, /restored \d+ items/);
    await assert.rejects(cli('restore', '--from', target, '--data-dir', restored), /exists/);
    const copy = await openSqlStorage({ url: `sqlite:${join(restored, 'syncstorage.db')}` });
    try {
      const ids = new Set<string>();
      for (const user of [1, 2, 3]) {
        for (const id of (await copy.getItemIds(user, 'history')).items) ids.add(id);
      }
      const missing = before.filter((id) => !ids.has(id));
      assert.deepEqual(missing, [], 'acknowledged before the backup began');
    } finally {
      await copy.close();
    }
  },
);

test('backup refuses a database that is not SQLite, and a damaged file is not restored', async () => {
  await assert.rejects(
    cli('backup', '--to', join(dir, 'x.db'), '--database', 'postgres://u@127.0.0.1:1/db'),
    /pg_dump/,
  );
  const bad = join(dir, 'bad.db');
  writeFileSync(bad, 'not a database at all, not at all');
  await assert.rejects(
    cli('restore', '--from', bad, '--data-dir', join(dir, 'empty')),
    /syncstorage/,
  );
});
