// --public-url with a path behind a real nginx (Debian nginx-light), with the
// README's configuration: a proxy that strips the prefix, and one that passes
// it on. Clients sign the public path; the MAC is checked against it, and the
// token's api_endpoint points where the server answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, startNginx, waitForPort, type NginxServer } from '@syncstorage-ts/test-support';
import { createHarness, MASTER_SECRET, type Harness } from './support/server-harness.js';
import { fetchTransport, SyncClient } from '../support/sync-client.js';

const run = promisify(execFile);

/** The README's nginx proxy headers. */
const HEADERS = [
  'proxy_set_header Host $host;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
  'proxy_set_header X-Forwarded-Port $server_port;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
].join(' ');

describe('behind nginx, --public-url with a path', () => {
  let h: Harness;
  let nginx: NginxServer;
  let passPort: number;
  let publicUrl: string;
  before(async () => {
    const backendPort = await freePort();
    passPort = await freePort();
    const backend = `http://127.0.0.1:${backendPort}`;
    nginx = await startNginx((port) =>
      [
        // README "nginx": proxy_pass with a trailing slash strips /sync.
        `server { listen 127.0.0.1:${port}; location /sync/ { proxy_pass ${backend}/; ${HEADERS} } }`,
        // proxy_pass without a URI passes /sync on: served too.
        `server { listen 127.0.0.1:${passPort}; location /sync/ { proxy_pass ${backend}; ${HEADERS} } }`,
      ].join('\n'),
    );
    await waitForPort(passPort, '127.0.0.1', 5000);
    publicUrl = `${nginx.origin}/sync`;
    h = await createHarness({ config: { trustProxy: true, publicUrl } });
    await h.app.listen({ host: '127.0.0.1', port: backendPort });
  });
  after(async () => {
    await h?.close();
    await nginx?.stop();
  });

  for (const mode of ['strips the prefix', 'passes the prefix on'] as const) {
    test(`a proxy that ${mode}: signed requests work, a wrong path is refused`, async () => {
      const base = mode === 'strips the prefix' ? publicUrl : `http://127.0.0.1:${passPort}/sync`;
      const client = new SyncClient({
        masterSecret: MASTER_SECRET,
        uid: 21,
        baseUrl: base,
        node: publicUrl,
        transport: fetchTransport(base),
      });
      const put = await client.put('/storage/meta/global', { payload: mode });
      assert.equal(put.status, 200, put.body);
      const get = await client.get('/storage/meta/global');
      assert.equal((get.json() as { payload: string }).payload, mode);
      const health = await fetch(`${base}/__heartbeat__`);
      assert.equal(health.status, 200);
      // Signed without the prefix (a client that does not know the path): refused, and said why.
      const unprefixed = await client.get('/info/collections', {
        sign: { resource: '/1.5/21/info/collections' },
      });
      assert.equal(unprefixed.status, 401);
      assert.ok(h.logs.some((l) => l.includes('"path":"/sync/1.5/21/info/collections"')));
    });
  }

  test('token names the node with its path', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'token', '--uid', '21', '--master-secret', 'x'],
      { env: { ...process.env, SYNC_PUBLIC_URL: `${publicUrl}/` } },
    );
    assert.equal(
      (JSON.parse(stdout) as { api_endpoint: string }).api_endpoint,
      `${publicUrl}/1.5/21`,
    );
  });
});
