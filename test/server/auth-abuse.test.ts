import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, type Harness } from './support/server-harness.js';
import { injectTransport, SyncClient } from '../support/sync-client.js';
import { decodeUrlsafe, encodeUrlsafe } from '../../src/server/auth/base64url.js';

// Abuse cases (issue 6): each answered with the right status and code, none with 500.

describe('authentication', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());

  function assertUnauthorized(res: {
    status: number;
    body: string;
    headers: Record<string, string>;
  }) {
    assert.equal(res.status, 401);
    assert.equal(res.body, '0');
    assert.match(res.headers['www-authenticate'] ?? '', /^Hawk/);
    assert.ok(res.headers['x-weave-timestamp']);
  }

  test('a good request passes', async () => {
    const res = await h.client(1).get('/info/collections');
    assert.equal(res.status, 200);
  });

  test('no credentials, or not Hawk', async () => {
    const client = h.client(1);
    assertUnauthorized(await client.get('/info/collections', { unsigned: true }));
    assertUnauthorized(
      await client.get('/info/collections', {
        unsigned: true,
        headers: { authorization: 'Basic dXNlcjpwYXNz' },
      }),
    );
  });

  test("another user's uid in the path is 403", async () => {
    // A valid token for uid 2, on uid 1's path.
    const other = h.client(2);
    const res = await other.get('/1.5/1/storage/bookmarks', { raw: true });
    assert.equal(res.status, 403);
    assert.equal(res.body, '0');
  });

  test('a tampered token', async () => {
    const client = h.client(1);
    const raw = decodeUrlsafe(client.token.id)!;
    // Change the uid digit in the JSON payload, keep the signature.
    const text = raw.toString('latin1').replace('"uid": 1,', '"uid": 2,');
    const tampered = encodeUrlsafe(Buffer.from(text, 'latin1'));
    assert.notEqual(tampered, client.token.id);
    assertUnauthorized(await client.get('/info/collections', { tokenId: tampered }));
    assertUnauthorized(await client.get('/info/collections', { tokenId: 'not-a-token' }));
  });

  test('a token signed with another secret', async () => {
    const stranger = new SyncClient({
      masterSecret: 'some other secret',
      uid: 1,
      transport: injectTransport(h.app),
    });
    assertUnauthorized(await stranger.get('/info/collections'));
  });

  test('an expired token is refused, except on info/collections', async () => {
    const client = h.client(1, { durationSeconds: -10 });
    assertUnauthorized(await client.get('/storage/bookmarks'));
    assertUnauthorized(await client.post('/storage/bookmarks', [{ id: 'a', payload: 'x' }]));
    assertUnauthorized(await client.get('/info/quota'));
    const info = await client.get('/info/collections');
    assert.equal(info.status, 200);
  });

  test('a replayed nonce is refused', async () => {
    const client = h.client(1);
    const sign = { nonce: 'once-only', ts: String(Math.floor(Date.now() / 1000)) };
    assert.equal((await client.get('/storage/x', { sign })).status, 200);
    assertUnauthorized(await client.get('/storage/x', { sign }));
    // Spent for that token whatever the request: another path, same ts and nonce.
    assertUnauthorized(await client.get('/storage/y', { sign }));
    // Another token (same user, new salt) has nonces of its own.
    client.renewToken();
    assert.equal((await client.get('/storage/x', { sign })).status, 200);
  });

  test('a MAC for another host, port, method or path', async () => {
    const client = h.client(1);
    assertUnauthorized(await client.get('/storage/x', { sign: { host: 'evil.example.com' } }));
    assertUnauthorized(await client.get('/storage/x', { sign: { port: 8001 } }));
    assertUnauthorized(await client.get('/storage/x', { sign: { method: 'DELETE' } }));
    assertUnauthorized(await client.get('/storage/x', { sign: { resource: '/1.5/1/storage/y' } }));
  });

  test('a timestamp outside the skew window gets our time in WWW-Authenticate', async () => {
    const client = h.client(1);
    const res = await client.get('/storage/x', {
      sign: { ts: String(Math.floor(Date.now() / 1000) - 3600) },
    });
    assertUnauthorized(res);
    assert.match(res.headers['www-authenticate'] ?? '', /ts="\d+", tsm="[^"]+"/);
  });

  test('a non-numeric uid is 404', async () => {
    const res = await h.client(1).get('/1.5/abc/info/collections', { raw: true });
    assert.equal(res.status, 404);
    assert.equal(res.body, '0');
  });
});

describe('authentication options', () => {
  test('X-Forwarded-* is honoured only with trust-proxy', async () => {
    const trusting = await createHarness({ config: { trustProxy: true } });
    const plain = await createHarness();
    after(async () => {
      await trusting.close();
      await plain.close();
    });
    const forwarded = {
      'x-forwarded-host': 'sync.example.com',
      'x-forwarded-proto': 'https',
    };
    // The client signed for https://sync.example.com:443; the server sees Host localhost:8000.
    const signAsPublic = { host: 'sync.example.com', port: 443 };
    const ok = await trusting
      .client(1)
      .get('/info/collections', { headers: forwarded, sign: signAsPublic });
    assert.equal(ok.status, 200);
    const refused = await plain
      .client(1)
      .get('/info/collections', { headers: forwarded, sign: signAsPublic });
    assert.equal(refused.status, 401);
  });

  test('with a public URL, the token node must match it', async () => {
    const h = await createHarness({ config: { publicUrl: 'https://sync.example.com/' } });
    after(() => h.close());
    const good = h.client(1, { node: 'https://sync.example.com' });
    assert.equal((await good.get('/info/collections')).status, 200);
    const bad = h.client(1, { node: 'https://elsewhere.example.com' });
    assert.equal((await bad.get('/info/collections')).status, 401);
  });

  test('the skew allowance is configurable', async () => {
    const h = await createHarness({ config: { skewSeconds: 3600 } });
    after(() => h.close());
    const res = await h.client(1).get('/storage/x', {
      sign: { ts: String(Math.floor(Date.now() / 1000) - 1800) },
    });
    assert.equal(res.status, 200);
  });
});
