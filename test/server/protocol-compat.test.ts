// Where the API answers as syncstorage-rs does (issue 14): 412 with
// X-Last-Modified, the crypto collection's known-bad IV, application/newlines
// lines, 405 before the body is read, the Hawk payload hash, a path prefix.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, type Harness } from './support/server-harness.js';

const BAD_IV = JSON.stringify({ ciphertext: 'x', IV: 'AAAAAAAAAAAAAAAAAAAAAA==', hmac: 'h' });

describe('protocol details as syncstorage-rs', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());

  test('a 412 carries X-Last-Modified with the current timestamp (PUT, POST, DELETE)', async () => {
    const client = h.client(3);
    const put = await client.put('/storage/prefs/p1', { payload: 'x' });
    const current = put.headers['x-last-modified']!;
    const stale = { headers: { 'x-if-unmodified-since': (Number(current) - 1).toFixed(2) } };
    for (const res of [
      await client.put('/storage/prefs/p1', { payload: 'y' }, stale),
      await client.post('/storage/prefs', [{ id: 'p2', payload: 'y' }], stale),
      await client.delete('/storage/prefs', stale),
      await client.delete('/storage/prefs/p1', stale),
      await client.get('/storage/prefs', stale),
    ]) {
      assert.equal(res.status, 412);
      assert.equal(res.headers['x-last-modified'], current);
    }
  });

  test('crypto refuses the all-zero IV on PUT and POST; other collections take it', async () => {
    const client = h.client(4);
    const put = await client.put('/storage/crypto/keys', { payload: BAD_IV });
    assert.equal(put.status, 400);
    assert.equal(put.body, '8');
    const post = await client.post('/storage/crypto', [
      { id: 'keys', payload: BAD_IV },
      { id: 'other', payload: 'fine' },
    ]);
    assert.equal(post.status, 400);
    assert.equal((await client.get('/storage/crypto')).body, '[]', 'nothing written');
    const spaced = BAD_IV.replace('"IV":', '"IV":  ');
    assert.equal((await client.put('/storage/crypto/keys', { payload: spaced })).status, 400);
    assert.equal((await client.put('/storage/bookmarks/a', { payload: BAD_IV })).status, 200);
    assert.equal((await client.put('/storage/crypto/keys', { payload: 'good' })).status, 200);
  });

  test('application/newlines: one final newline; any other empty or non-object line is 400', async () => {
    const client = h.client(5);
    const send = (body: string) =>
      client.request('POST', '/storage/history', { body, contentType: 'application/newlines' });
    const a = '{"id":"a","payload":"x"}';
    const b = '{"id":"b","payload":"y"}';
    for (const body of [`${a}\n${b}\n`, `${a}\n${b}`]) {
      const ok = await send(body);
      assert.equal(ok.status, 200, JSON.stringify(body));
      assert.deepEqual((ok.json() as { success: string[] }).success, ['a', 'b']);
    }
    for (const body of ['\n', `${a}\n\n${b}`, `${a}\n\n`, `\n${a}`, `${a}\n[]`, `${a}\n1\n`]) {
      assert.equal((await send(body)).status, 400, JSON.stringify(body));
    }
  });

  test('a method the path does not take is 405 with Allow before the body is read', async () => {
    const client = h.client(6);
    for (const body of ['', '{"broken', '{}']) {
      const res = await client.request('PATCH', '/storage/bookmarks', { body });
      assert.equal(res.status, 405, JSON.stringify(body));
      assert.match(res.headers.allow ?? '', /GET, POST, DELETE/);
    }
    const put = await client.request('PUT', '/storage/bookmarks', { body: 'not json' });
    assert.equal(put.status, 405);
  });

  test('a Hawk payload hash is checked against the body: a mismatch is 401', async () => {
    const client = h.client(7);
    const signed = await client.put('/storage/tabs/t', { payload: 'x' }, { sign: { hash: true } });
    assert.equal(signed.status, 200);
    const lines = await client.request('POST', '/storage/tabs', {
      body: '{"id":"u","payload":"y"}\n',
      contentType: 'application/newlines; charset=utf-8',
      sign: { hash: true },
    });
    assert.equal(lines.status, 200);
    const wrongHash = 'W5rf2fnN3sXSZQw2nydkJXv9DuCyswyvSOCDsjy1Jas=';
    for (const body of ['{"payload":"x"}', '{"broken']) {
      const swapped = await client.request('PUT', '/storage/tabs/t', {
        body,
        sign: { hash: wrongHash },
      });
      assert.equal(swapped.status, 401, body);
      assert.equal(swapped.headers['www-authenticate'], 'Hawk');
    }
    assert.ok(h.logs.some((line) => line.includes('payload hash mismatch')));
    assert.equal((await client.put('/storage/tabs/t', { payload: 'z' })).status, 200, 'no hash');
  });

  test('a refused MAC logs the host, port, scheme and path it was checked against', async () => {
    const client = h.client(8);
    const res = await client.get('/info/collections', { sign: { host: 'elsewhere.example' } });
    assert.equal(res.status, 401);
    const line = h.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => {
        return l.reason === 'bad MAC';
      });
    assert.ok(line, 'a line for the refused request');
    assert.equal(line.host, 'localhost');
    assert.equal(line.port, 8000);
    assert.equal(line.scheme, 'http');
    assert.equal(line.path, '/1.5/8/info/collections');
    assert.doesNotMatch(JSON.stringify(line), /mac=|Hawk id/);
  });
});

describe('a public URL with a path', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({
      config: { publicUrl: 'https://example.com/sync/', trustProxy: true },
    });
  });
  after(() => h.close());

  test('answers under the prefix and with it stripped; the MAC covers the signed path', async () => {
    const client = h.client(9, { baseUrl: 'https://example.com/sync' });
    const proto = { 'x-forwarded-proto': 'https' };
    const put = await client.put('/storage/meta/global', { payload: 'x' }, { headers: proto });
    assert.equal(put.status, 200, 'with the prefix');
    // A proxy that strips the prefix: the path arrives without it, the MAC
    // was computed over the prefixed path the client used.
    const signedPath = '/sync/1.5/9/storage/meta/global';
    const stripped = await h.app.inject({
      method: 'GET',
      url: '/1.5/9/storage/meta/global',
      headers: {
        ...proto,
        host: 'example.com',
        authorization: client.authorization('GET', signedPath),
      },
    });
    assert.equal(stripped.statusCode, 200, 'with the prefix stripped by a proxy');
    assert.equal((JSON.parse(stripped.body) as { payload: string }).payload, 'x');
    const health = await h.app.inject({ method: 'GET', url: '/sync/__heartbeat__' });
    assert.equal(health.statusCode, 200);
  });

  test('the request line names the client, from X-Forwarded-For behind a trusted proxy', async () => {
    await h.app.inject({
      url: '/__lbheartbeat__',
      remoteAddress: '10.0.0.2',
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    const line = h.logs
      .map((l) => JSON.parse(l) as { msg?: string; route?: string; client?: string })
      .findLast((l) => l.msg === 'request' && l.route === '/__lbheartbeat__');
    assert.equal(line?.client, '203.0.113.7');
  });

  test('the prefix is in the frozen config', async () => {
    const { resolveServerConfig } = await import('../../src/server/config/server-config.js');
    const config = resolveServerConfig({ masterSecret: 's', publicUrl: 'https://e.org/a/b/' });
    assert.equal(config.publicUrl, 'https://e.org/a/b');
    assert.equal(config.pathPrefix, '/a/b');
    assert.equal(resolveServerConfig({ masterSecret: 's' }).pathPrefix, '');
  });
});
