/**
 * What only a scripted server can show precisely: TCP segmentation (answers
 * split into single bytes, answers of many requests joined), a server that
 * hangs (request timeout) and one that drops the socket mid-batch. The parser
 * is also fed directly. Real-memcached behaviour is covered by the other
 * memcached-*.test.ts files.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CacheProtocolError,
  CacheTimeoutError,
  CacheUnavailableError,
  MemcachedClient,
} from '../src/index.js';
import { MetaParser } from '../src/meta-parser.js';
import { startFakeMetaServer, type FakeMetaServer } from './memcached-fake-server.js';

describe('MetaParser', () => {
  const wire = Buffer.from(
    'VA 5 f3 O1\r\nab\r\nc\r\nEN O2\r\nHD O3\r\nVA 0 O4\r\n\r\nMN\r\n',
    'latin1',
  );
  const expected = [
    ['VA 5 f3 O1', 'ab\r\nc'],
    ['EN O2', undefined],
    ['HD O3', undefined],
    ['VA 0 O4', ''],
    ['MN', undefined],
  ];
  const parse = (chunks: Buffer[]) => {
    const got: Array<[string, string | undefined]> = [];
    const parser = new MetaParser((line, data) => got.push([line, data?.toString('latin1')]));
    for (const chunk of chunks) parser.feed(chunk);
    return got;
  };

  test('one chunk, byte by byte, and every two-way split give the same responses', () => {
    assert.deepEqual(parse([wire]), expected);
    assert.deepEqual(parse([...wire].map((b) => Buffer.from([b]))), expected);
    for (let cut = 1; cut < wire.length; cut++) {
      assert.deepEqual(parse([wire.subarray(0, cut), wire.subarray(cut)]), expected, `cut ${cut}`);
    }
  });

  test('a large value arriving in many reads is joined once', () => {
    const value = Buffer.alloc(300_000, 'x');
    const full = Buffer.concat([Buffer.from(`VA ${value.length}\r\n`), value, Buffer.from('\r\n')]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < full.length; i += 65_536) chunks.push(full.subarray(i, i + 65_536));
    const got = parse(chunks);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.[1]?.length, value.length);
  });

  test('bad framing is a CacheProtocolError', () => {
    assert.throws(() => parse([Buffer.from('VA x\r\n')]), CacheProtocolError);
    assert.throws(() => parse([Buffer.from('VA 1\r\nab\r\n')]), CacheProtocolError);
    assert.throws(() => parse([Buffer.from('HD\n')]), CacheProtocolError);
  });
});

describe('MemcachedClient over a scripted server', () => {
  let fake: FakeMetaServer;
  before(async () => {
    fake = await startFakeMetaServer();
    for (let i = 0; i < 50; i++) fake.values.set(`k${i}`, Buffer.from(`value-${i}\r\nwith crlf`));
  });
  after(async () => {
    await fake.close();
  });

  for (const delivery of ['byte-by-byte', 'coalesced'] as const) {
    test(`answers delivered ${delivery} still reach the right callers`, async () => {
      fake.delivery = delivery;
      const client = new MemcachedClient({ servers: [fake.address], requestTimeout: 5000 });
      try {
        const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
        const singles = await Promise.all([...keys, 'missing'].map((k) => client.get(k)));
        assert.deepEqual(singles, [
          ...keys.map((_, i) => Buffer.from(`value-${i}\r\nwith crlf`)),
          undefined,
        ]);
        const multi = await client.getMulti(['k3', 'nope', 'k7']);
        assert.deepEqual(multi, [
          Buffer.from('value-3\r\nwith crlf'),
          undefined,
          Buffer.from('value-7\r\nwith crlf'),
        ]);
      } finally {
        fake.delivery = 'normal';
        await client.close();
      }
    });
  }

  test('requests issued in the same tick leave in one socket write', async () => {
    const client = new MemcachedClient({ servers: [fake.address] });
    try {
      await client.get('k0'); // connected
      fake.reads.length = 0;
      const all = await Promise.all(
        Array.from({ length: 200 }, (_, i) => client.get(`k${i % 50}`)),
      );
      assert.equal(all.length, 200);
      assert.equal(fake.reads.length, 1, 'one read on the server: one write from the client');
      assert.equal(
        fake.reads[0]!.toString()
          .split('\r\n')
          .filter((l) => l.startsWith('mg ')).length,
        200,
      );
    } finally {
      await client.close();
    }
  });

  test('a hanging server: each request fails with CacheTimeoutError at its deadline', async () => {
    const client = new MemcachedClient({
      servers: [fake.address],
      requestTimeout: 150,
      failureLimit: 1000,
    });
    try {
      await client.get('k1');
      fake.hang = true;
      const started = Date.now();
      const results = await Promise.allSettled([client.get('k1'), client.set('x', 'y')]);
      const elapsed = Date.now() - started;
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        assert.ok((result as PromiseRejectedResult).reason instanceof CacheTimeoutError);
      }
      assert.ok(elapsed >= 140 && elapsed < 1000, `timed out after ${elapsed} ms`);
    } finally {
      fake.hang = false;
      await client.close();
    }
  });

  test('a socket dropped mid-batch fails only the requests on it; the next call reconnects', async () => {
    const client = new MemcachedClient({ servers: [fake.address], failureLimit: 1000 });
    try {
      await client.get('k1');
      const before = fake.connections;
      fake.disconnectAfter = 2;
      const results = await Promise.allSettled([
        client.get('k1'),
        client.get('k2'),
        client.get('k3'),
      ]);
      assert.ok(results.every((r) => r.status === 'rejected'));
      assert.ok(
        results.every((r) => (r as PromiseRejectedResult).reason instanceof CacheUnavailableError),
      );
      assert.deepEqual(await client.get('k4'), Buffer.from('value-4\r\nwith crlf'));
      assert.equal(fake.connections, before + 1, 'exactly one reconnect');
    } finally {
      await client.close();
    }
  });
});
