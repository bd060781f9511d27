/**
 * Keys against a real memcached: any string or Buffer works, nothing is
 * altered, nothing collides, nothing is injected.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { MemcachedClient } from '../src/index.js';
import { encodeKey, MAX_BINARY_KEY_BYTES } from '../src/key-encoding.js';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';

/** Ask memcached directly, bypassing the client: what keys does it hold? */
async function rawCommand(server: MemcachedServer, command: string): Promise<string> {
  const socket = net.connect({ host: server.host, port: server.port });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`${command}\r\nmn\r\n`);
  for (let i = 0; i < 100 && !text.endsWith('MN\r\n'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  socket.destroy();
  return text;
}

describe('keys against real memcached', () => {
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

  test('key injection: "x 0 0 1\\r\\nP\\r\\nset y" is stored as that exact key and creates nothing else', async () => {
    await client.flush();
    const evil = 'x 0 0 1\r\nP\r\nset y';
    assert.equal(await client.set(evil, 'payload'), true);
    assert.equal(await client.get(evil), 'payload');
    for (const other of ['x', 'y', 'P', 'set', 'x 0 0 1']) {
      assert.equal(await client.get(other), undefined, other);
    }
    const stats = await client.stats();
    assert.equal(stats[server.address]?.curr_items, '1', 'exactly one item exists');
    // And memcached holds the exact bytes as the key: a raw base64 get finds it.
    const raw = await rawCommand(server, `mg ${Buffer.from(evil).toString('base64')} b v`);
    assert.equal(raw, 'VA 7\r\npayload\r\nMN\r\n');
  });

  test('keys memcached would refuse all work and stay distinct', async () => {
    await client.flush();
    const keys: Array<string | Buffer> = [
      'with space',
      'tab\there',
      'new\nline',
      'nul\0byte',
      'ünïcödé ✓',
      '😀',
      '',
      ' ',
      'a'.repeat(250),
      'a'.repeat(251),
      'b'.repeat(10_000),
      'é'.repeat(93), // 186 bytes: the longest binary key sent as is
      'é'.repeat(94), // 188 bytes: hashed
      Buffer.from([0xff, 0x00, 0x0d, 0x0a]),
      Buffer.alloc(MAX_BINARY_KEY_BYTES, 1),
      Buffer.alloc(MAX_BINARY_KEY_BYTES + 1, 1),
      Buffer.concat([Buffer.from([0x00, 0x23]), Buffer.alloc(32, 7)]), // starts with the hash marker
      '\uD800', // lone surrogate
      '\uFFFD', // what a lone surrogate would become in UTF-8
    ];
    for (const [i, key] of keys.entries())
      assert.equal(await client.set(key, i), true, `set #${i}`);
    const got = await client.getMulti(keys);
    assert.deepEqual(
      got,
      keys.map((_, i) => i),
    );
    for (const [i, key] of keys.entries()) assert.equal(await client.get(key), i, `get #${i}`);
    // Had two keys met, the later set would have overwritten the earlier value.
  });

  test('a string key and a Buffer of its UTF-8 bytes are the same key', async () => {
    await client.set('same', 1);
    assert.equal(await client.get(Buffer.from('same')), 1);
    await client.set('ü', 2);
    assert.equal(await client.get(Buffer.from('ü', 'utf8')), 2);
  });

  test('the mapping: plain ASCII as is, other short keys base64, long keys SHA-256 (deterministic)', () => {
    assert.deepEqual(encodeKey('plain:key'), {
      token: 'plain:key',
      binary: false,
      hashInput: 'plain:key',
    });
    const spaced = encodeKey('a b');
    assert.equal(spaced.binary, true);
    assert.equal(Buffer.from(spaced.token, 'base64').toString(), 'a b');
    const long = encodeKey('z'.repeat(300));
    assert.equal(long.binary, true);
    assert.equal(Buffer.from(long.token, 'base64').length, 34, 'marker + sha256');
    assert.equal(encodeKey('z'.repeat(300)).token, long.token);
    assert.ok(long.token.length <= 250);
  });
});
