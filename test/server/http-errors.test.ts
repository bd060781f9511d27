import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERRORS } from '../../src/server/errors/weave-errors.js';
import { ConflictError, StorageUnavailableError } from '../../src/storage/errors.js';
import type { SyncStorage } from '../../src/storage/sync-storage.js';
import { createHarness, type Harness } from './support/server-harness.js';

describe('the error registry', () => {
  test('every code is documented in the README with its status and Weave code', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const [name, spec] of Object.entries(ERRORS)) {
      const row = readme.split('\n').find((line) => new RegExp(`^\\| \`${name}\` +\\|`).test(line));
      assert.ok(row, `README documents ${name}`);
      assert.match(row, new RegExp(`\\| ${spec.status} +\\| ${spec.weave} +\\|`), name);
    }
  });
});

describe('HTTP errors', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: { limits: { maxRequestBytes: 1000 } } });
  });
  after(() => h.close());

  test('unknown routes are 404 with body 0', async () => {
    for (const path of ['/nope', '/1.5', '/1.5/1/what', '/1.5/1/storage/a/b/c']) {
      const res = await h.client(1).get(path, { raw: true });
      assert.equal(res.status, 404, path);
      assert.equal(res.body, '0');
      assert.ok(res.headers['x-weave-timestamp']);
    }
  });

  test('a wrong method is 405 with Allow', async () => {
    const client = h.client(1);
    const put = await client.request('PUT', '/storage/bookmarks', { body: '[]' });
    assert.equal(put.status, 405);
    assert.match(put.headers.allow ?? '', /GET/);
    assert.equal((await client.request('POST', '/info/collections', { body: '[]' })).status, 405);
    assert.equal((await client.request('PATCH', '/storage/a/b', { body: '{}' })).status, 405);
    assert.equal((await client.request('POST', '/__heartbeat__', { raw: true })).status, 405);
  });

  test('CORS preflight is answered', async () => {
    const res = await h.app.inject({
      method: 'OPTIONS',
      url: '/1.5/1/storage/bookmarks',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(res.statusCode, 204);
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example');
    assert.match(String(res.headers['access-control-allow-headers']), /Authorization/);
    assert.match(String(res.headers['access-control-allow-methods']), /POST/);
  });

  test('malformed JSON is 400 code 6', async () => {
    const client = h.client(1);
    for (const [method, path] of [
      ['POST', '/storage/a'],
      ['PUT', '/storage/a/b'],
    ] as const) {
      const res = await client.request(method, path, { body: '{"id": ' });
      assert.equal(res.status, 400, method);
      assert.equal(res.body, '6');
    }
    const lines = await client.request('POST', '/storage/a', {
      body: '{"id":"a"}\nnot json\n',
      contentType: 'application/newlines',
    });
    assert.equal(lines.status, 400);
    assert.equal(lines.body, '6');
    const empty = await client.request('POST', '/storage/a', { body: '' });
    assert.equal(empty.status, 400);
  });

  test('an unsupported content type is 415; newlines on PUT too', async () => {
    const client = h.client(1);
    const xml = await client.request('POST', '/storage/a', {
      body: '<a/>',
      contentType: 'application/xml',
    });
    assert.equal(xml.status, 415);
    const put = await client.request('PUT', '/storage/a/b', {
      body: '{"payload":"x"}\n',
      contentType: 'application/newlines',
    });
    assert.equal(put.status, 415);
    const text = await client.request('PUT', '/storage/a/b', {
      body: '{"payload":"x"}',
      contentType: 'text/plain',
    });
    assert.equal(text.status, 200);
  });

  test('an invalid BSO: PUT is 400 code 8, POST structure errors are 400', async () => {
    const client = h.client(1);
    for (const body of [
      { payload: 5 },
      { payload: 'x', sortindex: 1.5 },
      { payload: 'x', ttl: -1 },
      { payload: 'x', bogus: 1 },
      { id: 'other', payload: 'x' },
      [],
      'text',
    ]) {
      const res = await client.put('/storage/a/b', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body, '8');
    }
    for (const body of [{ id: 'a' }, [1], [{ payload: 'x' }], [{ id: 'a' }, { id: 'a' }]]) {
      const res = await client.post('/storage/a', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body, '8');
    }
  });

  test('bad parameters are 400 code 1', async () => {
    const client = h.client(1);
    const ids = Array.from({ length: 101 }, (_, i) => `i${i}`).join(',');
    for (const query of [
      'newer=abc',
      'older=-1',
      'limit=-1',
      'limit=x',
      'sort=sideways',
      `ids=${ids}`,
      'newer=1&newer=2',
      'offset=not-a-real-offset',
    ]) {
      const res = await client.get(`/storage/a?${query}`);
      // A missing collection never reaches the offset check; write one first.
      if (query.startsWith('offset')) continue;
      assert.equal(res.status, 400, query);
      assert.equal(res.body, '1', query);
    }
    await client.post('/storage/paged', [{ id: 'a', payload: '' }]);
    const offset = await client.get('/storage/paged?limit=1&offset=garbage%3Axx');
    assert.equal(offset.status, 400);
    const badName = await client.get('/storage/bad$name');
    assert.equal(badName.status, 400);
    const longName = await client.get(`/storage/${'c'.repeat(33)}`);
    assert.equal(longName.status, 400);
    const unknown = await client.get('/storage/a?frobnicate=1');
    assert.equal(unknown.status, 200, 'unknown parameters are ignored');
  });

  test('size headers over the limits are 400 code 17', async () => {
    const client = h.client(1);
    for (const [name, value] of [
      ['x-weave-records', '101'],
      ['x-weave-bytes', '2621441'],
      ['x-weave-total-records', '10001'],
      ['x-weave-total-bytes', '262144001'],
    ]) {
      const res = await client.post('/storage/a', [], { headers: { [name!]: value! } });
      assert.equal(res.status, 400, name);
      assert.equal(res.body, '17', name);
    }
    const bad = await client.post('/storage/a', [], { headers: { 'x-weave-records': 'many' } });
    assert.equal(bad.status, 400);
  });

  test('a URL that does not decode, or an overlong id, is 400 code 1, not 500', async () => {
    const client = h.client(1);
    for (const path of [
      '/storage/%E0%A4%A',
      '/storage/a/%E0%A4%A',
      `/storage/a/${'x'.repeat(300)}`,
    ]) {
      const res = await client.get(path);
      assert.equal(res.status, 400, path);
      assert.equal(res.body, '1');
    }
  });

  test('a body over max_request_bytes is 413', async () => {
    const client = h.client(1);
    const big = JSON.stringify([{ id: 'a', payload: 'x'.repeat(2000) }]);
    const res = await client.request('POST', '/storage/a', { body: big });
    assert.equal(res.status, 413);
    assert.equal(res.body, '17');
  });

  test('the heartbeats and version answer without auth', async () => {
    const lb = await h.app.inject({ url: '/__lbheartbeat__' });
    assert.equal(lb.statusCode, 200);
    const hb = await h.app.inject({ url: '/__heartbeat__' });
    assert.equal(hb.statusCode, 200);
    assert.equal((hb.json() as { database: string }).database, 'Ok');
    const version = await h.app.inject({ url: '/__version__' });
    assert.equal(version.statusCode, 200);
    assert.ok((version.json() as { version: string }).version);
  });
});

describe('storage failures', () => {
  /** The storage, with `method` throwing `error`. */
  function failing(method: keyof SyncStorage, error: () => Error) {
    return (storage: SyncStorage): SyncStorage =>
      new Proxy(storage, {
        get(target, prop, receiver) {
          if (prop === method) return async () => Promise.reject(error());
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
  }

  test('a conflict or lock timeout is 503 with Retry-After, never 409', async () => {
    const h = await createHarness({
      wrap: failing('withWriteLock', () => new ConflictError()),
      config: { retryAfterSeconds: 7 },
    });
    after(() => h.close());
    const res = await h.client(1).post('/storage/a', [{ id: 'a', payload: 'x' }]);
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '7');
  });

  test('an unavailable store is 503 with Retry-After, and the heartbeat says so', async () => {
    const h = await createHarness({
      wrap: (s) => {
        const broken = failing('getTimestamps', () => new StorageUnavailableError('db down'))(s);
        return new Proxy(broken, {
          get(target, prop, receiver) {
            if (prop === 'healthCheck') return async () => ({ database: false });
            return Reflect.get(target, prop, receiver) as unknown;
          },
        });
      },
    });
    after(() => h.close());
    const res = await h.client(1).get('/info/collections');
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '10');
    const hb = await h.app.inject({ url: '/__heartbeat__' });
    assert.equal(hb.statusCode, 503);
  });

  test('an unexpected error is 500 with code 0 and is logged with its stack', async () => {
    const h = await createHarness({
      wrap: failing('getCollectionCounts', () => new Error('boom')),
    });
    after(() => h.close());
    const res = await h.client(1).get('/info/collection_counts');
    assert.equal(res.status, 500);
    assert.equal(res.body, '0');
    assert.ok(h.logs.some((line) => line.includes('"internal error"') && line.includes('boom')));
  });
});
