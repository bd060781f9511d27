// The processes a self-hoster runs: `syncstorage serve` answers
// GET /1.0/sync/1.5 out of the box (its own URL registered as the node)
// and the token it gives works over a real socket; `syncstorage tokenserver`
// alone hands out a node added with `syncstorage nodes add`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
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
    start(env, ['serve', '--port', String(port), '--data-dir', dataDir]);
    await waitForPort(port, '127.0.0.1', 20_000);
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
  });

  test('tokenserver alone hands out the node added with `nodes add`; errors are JSON', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sync-ts-cli-'));
    const port = await freePort();
    const withDir = { ...env, SYNC_DATA_DIR: dataDir };
    await cli(withDir, 'nodes', 'add', 'https://node1.example.test', '--capacity', '10');
    const listed = await cli(withDir, 'nodes', 'list');
    assert.match(listed.stdout, /https:\/\/node1\.example\.test/);
    start(withDir, ['tokenserver', '--port', String(port)]);
    await waitForPort(port, '127.0.0.1', 20_000);
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
