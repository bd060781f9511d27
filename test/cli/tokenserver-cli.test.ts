// The processes a self-hoster runs: `syncstorage serve` answers
// GET /1.0/sync/1.5 out of the box (its own URL registered as the node)
// and the token it gives works over a real socket; `syncstorage tokenserver`
// alone hands out a node added with `syncstorage nodes add`. Both have an
// admin listener (on a free port here) with the token server's metrics,
// nodes and users.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from '@syncstorage-ts/test-support';
import { fetchTransport, SyncClient } from '../support/sync-client.js';
import { verifyToken, signingKey } from '../../src/server/auth/tokenlib.js';
import { FakeFxa } from '../tokenserver/support/fake-fxa.js';
import { keyId } from '../tokenserver/support/tokenserver-harness.js';

const run = promisify(execFile);
const MAIN = 'src/cli/main.ts';
const SECRET = 'cli tokenserver test secret';

function cli(env: Record<string, string>, ...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
}

/** A call to the admin listener of a process started with this data folder. */
async function admin(adminPort: number, dataDir: string, path: string, init: RequestInit = {}) {
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
  });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res;
}

function start(env: Record<string, string>, args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
  after(() => child.kill('SIGKILL'));
  return child;
}

describe('token server from the command line', () => {
  let fxa: FakeFxa;
  let env: Record<string, string>;
  before(async () => {
    fxa = await FakeFxa.start();
    env = {
      SYNC_MASTER_SECRET: SECRET,
      SYNC_TOKENSERVER__FXA_OAUTH_SERVER_URL: fxa.url,
      SYNC_LOG_LEVEL: 'warn',
    };
  });
  after(() => fxa.stop());

  test('serve: a Firefox token works end to end over a socket', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sync-ts-cli-'));
    const port = await freePort();
    const adminPort = await freePort();
    start(env, [
      'serve',
      ...['--port', String(port), '--data-dir', dataDir],
      ...['--admin-listen', `127.0.0.1:${adminPort}`],
    ]);
    await waitForPort(port, '127.0.0.1', 20_000);
    await waitForPort(adminPort, '127.0.0.1', 20_000);
    const origin = `http://127.0.0.1:${port}`;
    const res = await fetch(`${origin}/1.0/sync/1.5`, {
      headers: {
        authorization: `Bearer ${await fxa.accessToken({ fxaUid: 'e'.repeat(32) })}`,
        'x-keyid': keyId(1_700_000_000_000, 'abcd'),
        accept: 'application/json',
      },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      id: string;
      key: string;
      uid: number;
      api_endpoint: string;
    };
    assert.equal(body.api_endpoint, `${origin}/1.5/${body.uid}`);
    // JWKs came from the fake FxA's /v1/jwks (none configured).
    assert.equal(fxa.calls.jwks, 1);
    const client = new SyncClient({
      masterSecret: SECRET,
      uid: body.uid,
      transport: fetchTransport(origin),
      baseUrl: origin,
    });
    client.token = {
      id: body.id,
      key: body.key,
      payload: verifyToken(signingKey(SECRET), body.id),
    };
    const info = await client.get('/info/collections');
    assert.equal(info.status, 200);
    const heartbeat = (await (await fetch(`${origin}/__heartbeat__`)).json()) as Record<
      string,
      string
    >;
    assert.equal(heartbeat.tokenserver, 'Ok');
    // The operator sees the token server: its node, the user, the metrics.
    const { nodes } = (await (await admin(adminPort, dataDir, '/api/nodes')).json()) as {
      nodes: Array<{ node: string; currentLoad: number }>;
    };
    assert.deepEqual(
      nodes.map((n) => [n.node, n.currentLoad]),
      [[origin, 1]],
    );
    const found = (await (
      await admin(adminPort, dataDir, `/api/users?search=${'e'.repeat(8)}`)
    ).json()) as { users: Array<{ userId: number }> };
    assert.deepEqual(
      found.users.map((u) => u.userId),
      [body.uid],
    );
    const metrics = await (await admin(adminPort, dataDir, '/metrics')).text();
    assert.match(metrics, /^syncstorage_tokenserver_assignments_total\{kind="new_user"\} 1$/m);
    assert.match(metrics, /^syncstorage_tokenserver_tokens_issued_total 1$/m);
  });

  test('tokenserver alone hands out the node added with `nodes add`; errors are JSON', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sync-ts-cli-'));
    const port = await freePort();
    const withDir = { ...env, SYNC_DATA_DIR: dataDir };
    await cli(withDir, 'nodes', 'add', 'https://node1.example.test', '--capacity', '10');
    const listed = await cli(withDir, 'nodes', 'list');
    assert.match(listed.stdout, /https:\/\/node1\.example\.test/);
    const adminPort = await freePort();
    start(withDir, [
      'tokenserver',
      '--port',
      String(port),
      '--admin-listen',
      `127.0.0.1:${adminPort}`,
    ]);
    await waitForPort(port, '127.0.0.1', 20_000);
    await waitForPort(adminPort, '127.0.0.1', 20_000);
    const res = await fetch(`http://127.0.0.1:${port}/1.0/sync/1.5`, {
      headers: {
        authorization: `Bearer ${await fxa.accessToken({ fxaUid: 'f'.repeat(32) })}`,
        'x-keyid': keyId(1_700_000_000_000, 'abcd'),
      },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { uid: number; api_endpoint: string };
    assert.equal(body.api_endpoint, `https://node1.example.test/1.5/${body.uid}`);
    const missing = await fetch(`http://127.0.0.1:${port}/nothing`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /application\/json/);
    const users = await cli(withDir, 'users', 'list');
    assert.match(users.stdout, new RegExp(`${'f'.repeat(32)}@api.accounts.firefox.com`));
    const searched = await cli(withDir, 'users', 'list', '--search', 'ffff');
    assert.match(searched.stdout, new RegExp(`uid ${body.uid} `));
    assert.equal((await cli(withDir, 'users', 'list', '--search', 'abc')).stdout, 'no users\n');

    // The token server alone has an admin listener too: metrics and nodes.
    const metrics = await (await admin(adminPort, dataDir, '/metrics')).text();
    assert.match(metrics, /^syncstorage_tokenserver_assignments_total\{kind="new_user"\} 1$/m);
    assert.match(
      metrics,
      /^syncstorage_tokenserver_fxa_verifications_total\{method="local_jwk",outcome="ok"\} 1$/m,
    );
    assert.match(
      metrics,
      /^syncstorage_http_requests_total\{method="GET",route="\/1\.0\/:application\/:version",status="200"\} 1$/m,
    );
    const { nodes } = (await (await admin(adminPort, dataDir, '/api/nodes')).json()) as {
      nodes: Array<{ id: number; currentLoad: number }>;
    };
    assert.equal(nodes[0]!.currentLoad, 1);
    await admin(adminPort, dataDir, `/api/nodes/${nodes[0]!.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ downed: true }),
    });
    assert.match(
      (await cli(withDir, 'nodes', 'list')).stdout,
      /node1\.example\.test\s+9\s+1\s+10\s+1\s+0$/m,
    );
  });

  test('a bad JWK is refused at start with the option named', async () => {
    await assert.rejects(
      cli(
        { ...env, SYNC_TOKENSERVER__FXA_OAUTH_PRIMARY_JWK: '{"kty":"EC"}' },
        'tokenserver',
        '--port',
        String(await freePort()),
        '--data-dir',
        mkdtempSync(join(tmpdir(), 'sync-ts-cli-')),
      ),
      (error: Error & { code?: number; stderr?: string }) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr ?? '', /fxa_oauth_primary_jwk/);
        return true;
      },
    );
  });
});
