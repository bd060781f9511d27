// --public-url with a path behind a real nginx (Debian nginx-light) and a
// real Caddy (Debian caddy), with the README's configurations: a proxy that
// strips the prefix, and one that passes it on. Clients sign the public
// path; the MAC is checked against it, and the token's api_endpoint points
// where the server answers. Caddy's configuration is read from the README
// itself, so the test fails when the README's block stops working.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { freePort, startCaddy, startNginx, waitForPort } from '@syncstorage-ts/test-support';
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

/** The README's Caddy block, its site and backend addresses replaced. */
function readmeCaddyfile(site: string, backend: string): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /```caddy\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'the README has a ```caddy block');
  assert.match(block, /^example\.com \{/, 'for the site example.com');
  assert.match(block, /127\.0\.0\.1:8000/, 'proxying to 127.0.0.1:8000');
  return block.replace(/^example\.com/, site).replaceAll('127.0.0.1:8000', backend);
}

/** Signed requests through `base` work; one signed without the prefix is refused, and logged why. */
async function signedRequestsWork(
  h: Harness,
  base: string,
  publicUrl: string,
  uid: number,
): Promise<void> {
  const client = new SyncClient({
    masterSecret: MASTER_SECRET,
    uid,
    baseUrl: base,
    node: publicUrl,
    transport: fetchTransport(base),
  });
  const put = await client.put('/storage/meta/global', { payload: base });
  assert.equal(put.status, 200, put.body);
  const get = await client.get('/storage/meta/global');
  assert.equal((get.json() as { payload: string }).payload, base);
  const health = await fetch(`${base}/__heartbeat__`);
  assert.equal(health.status, 200);
  // Signed without the prefix (a client that does not know the path): refused, and said why.
  const unprefixed = await client.get('/info/collections', {
    sign: { resource: `/1.5/${uid}/info/collections` },
  });
  assert.equal(unprefixed.status, 401);
  assert.ok(h.logs.some((l) => l.includes(`"path":"/sync/1.5/${uid}/info/collections"`)));
}

interface Proxy {
  name: string;
  /** Starts it: strips /sync on its own port, passes it on on `passPort`. */
  start(backendPort: number, passPort: number): Promise<{ origin: string; stop(): Promise<void> }>;
  strips: string;
  passes: string;
}

const PROXIES: Proxy[] = [
  {
    name: 'nginx',
    start: (backendPort, passPort) => {
      const backend = `http://127.0.0.1:${backendPort}`;
      return startNginx((port) =>
        [
          // README "nginx": proxy_pass with a trailing slash strips /sync.
          `server { listen 127.0.0.1:${port}; location /sync/ { proxy_pass ${backend}/; ${HEADERS} } }`,
          // proxy_pass without a URI passes /sync on: served too.
          `server { listen 127.0.0.1:${passPort}; location /sync/ { proxy_pass ${backend}; ${HEADERS} } }`,
        ].join('\n'),
      );
    },
    strips: 'proxy_pass with a URI',
    passes: 'proxy_pass without a URI',
  },
  {
    name: "Caddy (the README's block)",
    start: (backendPort, passPort) => {
      const backend = `127.0.0.1:${backendPort}`;
      return startCaddy((port) => {
        const strip = readmeCaddyfile(`http://127.0.0.1:${port}`, backend);
        // The README's variant that passes the prefix on: handle instead of handle_path.
        const pass = readmeCaddyfile(`http://127.0.0.1:${passPort}`, backend).replace(
          'handle_path',
          'handle',
        );
        return `${strip}\n${pass}`;
      });
    },
    strips: 'handle_path',
    passes: 'handle',
  },
];

PROXIES.forEach((proxy, index) => {
  describe(`behind ${proxy.name}, --public-url with a path`, () => {
    let h: Harness;
    let server: { origin: string; stop(): Promise<void> };
    let passPort: number;
    let publicUrl: string;
    const uid = 20 + 10 * index;
    before(async () => {
      const backendPort = await freePort();
      passPort = await freePort();
      server = await proxy.start(backendPort, passPort);
      await waitForPort(passPort, '127.0.0.1', 5000);
      publicUrl = `${server.origin}/sync`;
      h = await createHarness({ config: { trustProxy: true, publicUrl } });
      await h.app.listen({ host: '127.0.0.1', port: backendPort });
    });
    after(async () => {
      await h?.close();
      await server?.stop();
    });

    test(`${proxy.strips} strips the prefix: signed requests work, a wrong path is refused`, () =>
      signedRequestsWork(h, publicUrl, publicUrl, uid + 1));
    test(`${proxy.passes} passes the prefix on: signed requests work, a wrong path is refused`, () =>
      signedRequestsWork(h, `http://127.0.0.1:${passPort}/sync`, publicUrl, uid + 2));
  });
});

test('token names the node with its path', async () => {
  const publicUrl = 'https://example.com/sync';
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
