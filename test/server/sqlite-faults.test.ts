// The SQLite file going bad while the server runs (issue 14): deleted,
// read-only, disk full → 503 with Retry-After, one log line naming the file,
// the heartbeat reports the database, and no write is acknowledged into a
// deleted file. Read-only (chattr +i) and full (a small tmpfs of its own)
// need root; they are skipped without it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { createHarness } from './support/server-harness.js';

async function serverOn(path: string) {
  const h = await createHarness({ open: () => openSqlStorage({ url: `sqlite:${path}` }) });
  const heartbeat = async () => {
    const res = await h.app.inject({ url: '/__heartbeat__' });
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, string> };
  };
  return { client: h.client(1), logs: h.logs, heartbeat, close: () => h.close() };
}

function assertUnavailable(res: { status: number; headers: Record<string, string> }): void {
  assert.equal(res.status, 503);
  assert.match(res.headers['retry-after'] ?? '', /^\d+$/);
}

const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'sync-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

const canChattr = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = join(mkdtempSync(join(tmpdir(), 'sync-chattr-probe-')), 'f');
  try {
    execFileSync('touch', [probe]);
    execFileSync('chattr', ['+i', probe], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A tmpfs of `size` mounted for this test, unmounted after. */
function tmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sync-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  after(() => {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

describe('the SQLite file going bad while serving', () => {
  test('deleted: writes are refused with 503, never acknowledged; heartbeat fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-deleted-'));
    const path = join(dir, 'sync.db');
    const server = await serverOn(path);
    after(() => server.close());
    assert.equal((await server.client.put('/storage/bookmarks/a', { payload: 'x' })).status, 200);
    assert.equal((await server.heartbeat()).status, 200);
    rmSync(path);
    for (const name of ['b', 'c']) {
      assertUnavailable(await server.client.put(`/storage/bookmarks/${name}`, { payload: 'y' }));
    }
    const lines = server.logs.filter((l) => l.includes('storage unavailable'));
    assert.equal(lines.length, 1, 'one line for the same cause');
    assert.match(lines[0]!, /sync\.db was deleted/);
    const hb = await server.heartbeat();
    assert.equal(hb.status, 503);
    assert.equal(hb.body.database, 'Err');
  });

  test('made read-only: 503 and the heartbeat says so', { skip: !canChattr }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-readonly-'));
    const path = join(dir, 'sync.db');
    const server = await serverOn(path);
    after(() => server.close());
    assert.equal((await server.client.put('/storage/bookmarks/a', { payload: 'x' })).status, 200);
    // Immutable: even root may not write it (a chmod would not stop root).
    execFileSync('chattr', ['+i', path]);
    after(() => execFileSync('chattr', ['-i', path]));
    assertUnavailable(await server.client.put('/storage/bookmarks/b', { payload: 'y' }));
    assert.ok(server.logs.some((l) => /storage unavailable: .*sync\.db is read-only/.test(l)));
    assert.equal((await server.heartbeat()).status, 503);
    execFileSync('chattr', ['-i', path]);
    assert.equal((await server.heartbeat()).status, 200, 'back once writable');
    assert.equal((await server.client.put('/storage/bookmarks/b', { payload: 'y' })).status, 200);
  });

  test(
    'disk full: 503 with Retry-After, the heartbeat reports it',
    { skip: !canMount },
    async () => {
      const dir = tmpfs('1m');
      mkdirSync(join(dir, 'db'));
      const path = join(dir, 'db', 'sync.db');
      const server = await serverOn(path);
      after(() => server.close());
      assert.equal((await server.client.put('/storage/bookmarks/a', { payload: 'x' })).status, 200);
      const big = 'x'.repeat(1_500_000);
      const res = await server.client.put('/storage/bookmarks/big', { payload: big });
      assertUnavailable(res);
      assert.ok(
        server.logs.some((l) => /storage unavailable: the disk holding .* is full/.test(l)),
      );
      const hb = await server.heartbeat();
      assert.equal(hb.status, 503);
      assert.equal(
        (await server.client.get('/storage/bookmarks/a')).status,
        200,
        'reads still work',
      );
    },
  );
});
