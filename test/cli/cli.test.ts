import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from '@syncstorage-ts/test-support';
import { fetchTransport, SyncClient } from '../support/sync-client.js';

const run = promisify(execFile);
const MAIN = 'src/cli/main.ts';

function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeout: 30_000 });
}

describe('syncstorage CLI', () => {
  test('--help on each subcommand explains options and variables', async () => {
    const top = await cli('--help');
    for (const name of ['serve', 'token', 'purge']) assert.match(top.stdout, new RegExp(name));
    const serve = await cli('serve', '--help');
    for (const text of [
      'SYNC_MASTER_SECRET',
      'SYNC_HOST',
      'SYNC_PORT',
      'SYNC_SYNCSTORAGE__DATABASE_URL',
      'SYNC_SYNCSTORAGE__LIMITS__MAX_POST_RECORDS',
      '--memcached',
      '--cached-collections',
      '--cache-only-collections',
      '--public-url',
      '--trust-proxy',
      '--config',
    ]) {
      assert.ok(serve.stdout.includes(text), text);
    }
    const tokenHelp = (await cli('token', '--help')).stdout;
    assert.match(tokenHelp, /--uid/);
    assert.match(tokenHelp, /--port <value> +port of the node named in the token/);
    assert.doesNotMatch(tokenHelp, /listen on/, 'token listens nowhere');
    assert.match((await cli('purge', '--help')).stdout, /--grace-period/);
  });

  test('a bad option fails with its name and exit code 2', async () => {
    await assert.rejects(
      cli('token', '--uid', 'x', '--master-secret', 's'),
      (
        error: Error & {
          code?: number;
          stderr?: string;
        },
      ) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr ?? '', /--uid/);
        return true;
      },
    );
  });

  test('serve answers on a free port; token output authenticates; SIGTERM stops it', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'sync-serve-')), 'data');
    const port = await freePort();
    const adminPort = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'serve',
        '--port',
        String(port),
        '--data-dir',
        dataDir,
        '--admin-listen',
        `127.0.0.1:${adminPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    after(() => child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitForPort(port, '127.0.0.1', 20_000);

    const lb = await fetch(`http://127.0.0.1:${port}/__lbheartbeat__`);
    assert.equal(lb.status, 200);
    const secret = readFileSync(join(dataDir, 'master-secret'), 'utf8').trim();
    assert.ok(stderr.includes(secret), 'the new secret is printed on the terminal');
    assert.match(stderr, / token --uid 1 --data-dir /);
    // The admin listener: its token generated once, printed, and required.
    await waitForPort(adminPort, '127.0.0.1', 20_000);
    const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    assert.ok(
      stderr.includes(`#token=${adminToken}`),
      'the admin token is printed on the terminal',
    );
    assert.ok(!stdout.includes(adminToken) && !stdout.includes(secret), 'never in the JSON logs');
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    assert.equal((await fetch(`${adminUrl}/metrics`)).status, 401);
    const metrics = await fetch(`${adminUrl}/metrics`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /syncstorage_http_requests_total/);
    assert.equal((await fetch(`${baseUrlOf(port)}/metrics`)).status, 404);

    const { stdout: tokenJson } = await cli(
      'token',
      '--uid',
      '9',
      '--data-dir',
      dataDir,
      '--port',
      String(port),
    );
    const token = JSON.parse(tokenJson) as {
      id: string;
      key: string;
      uid: number;
      api_endpoint: string;
    };
    assert.equal(token.uid, 9);
    assert.equal(token.api_endpoint, `http://127.0.0.1:${port}/1.5/9`);
    const baseUrl = `http://127.0.0.1:${port}`;
    const client = new SyncClient({
      masterSecret: 'unused',
      uid: 9,
      baseUrl,
      transport: fetchTransport(baseUrl),
    });
    client.token = { id: token.id, key: token.key, payload: client.token.payload };
    const put = await client.put('/storage/meta/global', { payload: '{}' });
    assert.equal(put.status, 200);
    const info = await client.get('/info/collections');
    assert.equal(info.status, 200);
    assert.ok('meta' in (info.json() as object));

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const lines = stdout.split('\n').filter(Boolean);
    assert.ok(lines.length > 0 && lines.every((line) => JSON.parse(line)), 'JSON log lines');
    assert.ok(lines.some((line) => line.includes('"request"')));
    assert.ok(
      !stdout.includes(secret) && !stdout.includes(token.id) && !stdout.includes(token.key),
    );

    const purge = await cli('purge', '--data-dir', dataDir);
    assert.match(purge.stdout, /done: \d+ items, \d+ batches, \d+ batch items purged/);
  });
});

function baseUrlOf(port: number): string {
  return `http://127.0.0.1:${port}`;
}
