/**
 * MemcachedClient against a real memcached: what the conformance suite does not
 * cover — pipelining depth, batching into one write, value flags seen by
 * memcached, oversize values never sent, pool size, serializer, option checks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  CacheInputError,
  MemcachedClient,
  ValueTooLargeError,
  type Serializer,
} from '../src/index.js';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';

/** Count socket writes made while `fn` runs (all sockets of this process). */
async function countWrites<T>(fn: () => Promise<T>): Promise<{ result: T; writes: number }> {
  const original = net.Socket.prototype.write;
  let writes = 0;
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    // Only TCP sockets: Node 24's test runner reports through a pipe (a
    // net.Socket too) while the test runs.
    if (this.remotePort !== undefined) writes++;
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof original;
  try {
    return { result: await fn(), writes };
  } finally {
    net.Socket.prototype.write = original;
  }
}

describe('MemcachedClient against real memcached', () => {
  let server: MemcachedServer;
  let client: MemcachedClient;
  before(async () => {
    server = await startMemcached();
    client = new MemcachedClient({ servers: [server.address] });
  });
  after(async () => {
    await client?.close();
    await server?.stop();
  });

  test('1000 concurrent gets on one connection, each answered with its own value', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `pipe:${i}`);
    await Promise.all(keys.map((k, i) => client.set(k, { i })));
    const before = Number((await client.stats())[server.address]?.curr_connections);
    const { result, writes } = await countWrites(() => Promise.all(keys.map((k) => client.get(k))));
    assert.deepEqual(
      result,
      keys.map((_, i) => ({ i })),
    );
    assert.equal(writes, 1, '1000 gets queued in one tick leave in one write');
    const afterStats = Number((await client.stats())[server.address]?.curr_connections);
    assert.equal(afterStats, before, 'no extra connection was opened');
  });

  test('getMulti: one write per server, quiet mg lines ended by mn; misses are undefined', async () => {
    await client.set('gm:a', 'A');
    await client.set('gm:c', Buffer.from('C'));
    const { result, writes } = await countWrites(() =>
      client.getMulti(['gm:a', 'gm:b', 'gm:c', 'gm:a']),
    );
    assert.deepEqual(result, ['A', undefined, Buffer.from('C'), 'A']);
    assert.equal(writes, 1);
    assert.deepEqual(await client.getMulti([]), []);
  });

  /** Meta commands on a socket of its own (as another client), up to and with `mn`; the reply text. */
  async function rawMeta(commands: string): Promise<string> {
    const socket = net.connect({ host: server.host, port: server.port });
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.write(`${commands}mn\r\n`);
    for (let i = 0; i < 100 && !text.endsWith('MN\r\n'); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    socket.destroy();
    return text;
  }

  test('client flags record the type: memcached returns them to other readers', async () => {
    await client.set('t:s', 'text');
    await client.set('t:b', Buffer.from('bytes'));
    await client.set('t:j', { a: 1 });
    const text = await rawMeta('mg t:s f v\r\nmg t:b f v\r\nmg t:j f v\r\n');
    assert.equal(text, 'VA 4 f16\r\ntext\r\nVA 5 f0\r\nbytes\r\nVA 7 f6\r\n{"a":1}\r\nMN\r\n');
  });

  test('flags 1 (a Python pickle) read as bytes; flags 2 (JSON before 0.2, Python ints) as JSON', async () => {
    await rawMeta('ms t:p 4 F1\r\nI42.\r\nms t:l 7 F2\r\n{"a":1}\r\n');
    assert.deepEqual(await client.get('t:p'), Buffer.from('I42.'));
    assert.deepEqual(await client.get('t:l'), { a: 1 });
  });

  test('oversize values fail with ValueTooLargeError before any byte is sent', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1);
    const { writes } = await countWrites(async () => {
      await assert.rejects(client.set('big', big), (error: unknown) => {
        assert.ok(error instanceof ValueTooLargeError);
        assert.equal(error.size, big.length);
        assert.equal(error.limit, 1024 * 1024);
        assert.match(error.message, /maxValueSize/);
        return true;
      });
      await assert.rejects(client.append('big', big), ValueTooLargeError);
      await assert.rejects(client.set('big', 'x'.repeat(1024 * 1024 + 1)), ValueTooLargeError);
    });
    assert.equal(writes, 0);
    assert.equal(await client.get('big'), undefined);
    const small = new MemcachedClient({ servers: [server.address], maxValueSize: 10 });
    await assert.rejects(small.set('k', 'x'.repeat(11)), ValueTooLargeError);
    assert.equal(await small.set('k', 'x'.repeat(10)), true);
    await small.close();
  });

  test('a value under maxValueSize but over memcached -I is a ValueTooLargeError, and the connection stays in step', async () => {
    const tiny = await startMemcached({
      maxItemSize: '64k',
      args: ['-o', 'slab_chunk_max=32768'],
    });
    const c = new MemcachedClient({ servers: [tiny.address] });
    try {
      const results = await Promise.allSettled([
        c.set('a', 'ok'),
        c.set('b', Buffer.alloc(100_000)),
        c.get('a'),
      ]);
      assert.deepEqual(results[0], { status: 'fulfilled', value: true });
      assert.equal(results[1].status, 'rejected');
      assert.ok((results[1] as PromiseRejectedResult).reason instanceof ValueTooLargeError);
      assert.deepEqual(results[2], { status: 'fulfilled', value: 'ok' });
    } finally {
      await c.close();
      await tiny.stop();
    }
  });

  test('a pool of connections spreads requests; answers still match', async () => {
    const pooled = new MemcachedClient({ servers: [server.address], poolSize: 4 });
    try {
      const keys = Array.from({ length: 200 }, (_, i) => `pool:${i}`);
      await Promise.all(keys.map((k) => pooled.set(k, k)));
      assert.deepEqual(await Promise.all(keys.map((k) => pooled.get(k))), keys);
    } finally {
      await pooled.close();
    }
  });

  test('a pluggable serializer decides the bytes of non-Buffer, non-string values', async () => {
    const tagged: Serializer = {
      flag: 42,
      serialize: (value) => Buffer.from(`T:${JSON.stringify(value)}`),
      deserialize: (data) => ({ decoded: JSON.parse(data.toString().slice(2)) as unknown }),
    };
    const custom = new MemcachedClient({ servers: [server.address], serializer: tagged });
    try {
      await custom.set('ser', [1, 2]);
      assert.deepEqual(await custom.get('ser'), { decoded: [1, 2] });
      // A client without that serializer does not guess: unknown flags read as bytes.
      assert.deepEqual(await client.get('ser'), Buffer.from('T:[1,2]'));
      await custom.set('ser:s', 'plain string');
      assert.equal(await custom.get('ser:s'), 'plain string');
    } finally {
      await custom.close();
    }
    assert.throws(
      () => new MemcachedClient({ servers: [server.address], serializer: { ...tagged, flag: 1 } }),
      CacheInputError,
    );
  });

  test('bad options and arguments are CacheInputError, rejected (never thrown) by calls', async () => {
    assert.throws(() => new MemcachedClient({ servers: [] }), CacheInputError);
    assert.throws(() => new MemcachedClient({ servers: ['h:0'] }), CacheInputError);
    assert.throws(
      () => new MemcachedClient({ servers: [server.address], connectTimeout: -1 }),
      /connectTimeout/,
    );
    const pending = client.set('k', 1, { ttl: -1 });
    assert.ok(pending instanceof Promise);
    await assert.rejects(pending, CacheInputError);
    await assert.rejects(client.touch('k', 1.5), CacheInputError);
    await assert.rejects(client.cas('k', 1, -1n), CacheInputError);
  });
});
