/**
 * Interoperation with another language's client on real memcached servers:
 * Debian's python3-pylibmc (pylibmc 1.6 over libmemcached 1.0.18), driven
 * through `pylibmc-peer.py`.
 *
 * - Values: what each side writes, the other reads back byte for byte, under
 *   the client flags `serializer.ts` documents (0 bytes, 16 text, 6 JSON; a
 *   pickle-shaped string is text to Python, never unpickled).
 * - Ketama: the README's claim, pinned — pylibmc `ketama_weighted` ≡ our
 *   'ketama-weighted', pylibmc `ketama` + `hash: md5` ≡ our 'ketama'; and
 *   pylibmc `ketama` alone (one-at-a-time key hash) does not match.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';
import { MemcachedClient, type KetamaDistribution } from '../src/index.js';

// The Debian interpreter: a python3 earlier on PATH (pyenv) lacks the Debian module.
const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('./pylibmc-peer.py', import.meta.url));
const pylibmcMissing =
  spawnSync(PYTHON, ['-c', 'import pylibmc'], { stdio: 'ignore' }).status === 0
    ? false
    : `${PYTHON} cannot import pylibmc: apt-get install python3-pylibmc (scripts/ensure-system-deps.sh)`;

type PeerValue = { type: string; hex?: string; repr?: string } | { error: string } | null;

interface PeerRequest {
  servers: string[];
  behaviors?: Record<string, unknown>;
  write?: Record<string, { type: 'str' | 'bytes'; hex: string }>;
  read?: string[];
}

function runPeer(request: PeerRequest): Promise<Record<string, PeerValue>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [PEER], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`pylibmc peer exited ${code}: ${err}`));
      else resolve((JSON.parse(out) as { read: Record<string, PeerValue> }).read);
    });
    child.stdin.end(JSON.stringify(request));
  });
}

/** The client flags memcached holds for each key (meta `mg <key> f`), read on a raw socket. */
async function storedFlags(server: MemcachedServer, keys: string[]): Promise<number[]> {
  const socket = net.connect({ host: server.host, port: server.port });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.write(keys.map((k) => `mg ${k} f\r\n`).join('') + 'mn\r\n');
  while (!text.endsWith('MN\r\n')) {
    await new Promise((resolve) => socket.once('data', resolve));
  }
  socket.destroy();
  return text
    .split('\r\n')
    .filter((line) => line.startsWith('HD') || line.startsWith('EN'))
    .map((line) => Number(/ f(\d+)/.exec(line)?.[1] ?? NaN));
}

const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');
const TEXT = 'héllo wörld ✓ 𝄞';
// A protocol-0 pickle that calls os.system("true") when unpickled: under flag 1
// Python would run it; under flag 16 it is the text it is.
const PICKLE_SHAPED = "cos\nsystem\n(S'true'\ntR.";
const BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('interop with pylibmc (libmemcached)', { skip: pylibmcMissing }, () => {
  const servers: MemcachedServer[] = [];
  before(async () => {
    servers.push(...(await Promise.all([startMemcached(), startMemcached(), startMemcached()])));
  });
  after(() => Promise.all(servers.map((s) => s.stop())));

  test('values this client writes, pylibmc reads byte for byte (flags 16 text, 0 bytes, 6 JSON, 65536 empty bytes)', async () => {
    const server = servers[0]!;
    const client = new MemcachedClient({ servers: [server.address] });
    await client.set('n:text', TEXT);
    await client.set('n:pickle', PICKLE_SHAPED);
    await client.set('n:bytes', BYTES);
    await client.set('n:json', { a: [1, 'x'] });
    await client.set('n:empty', Buffer.alloc(0));
    await client.close();
    const keys = ['n:text', 'n:pickle', 'n:bytes', 'n:json', 'n:empty'];
    assert.deepEqual(await storedFlags(server, keys), [16, 16, 0, 6, 65536]);
    const read = await runPeer({ servers: [server.address], read: keys });
    assert.deepEqual(read['n:text'], { type: 'str', hex: hex(TEXT) });
    assert.deepEqual(read['n:pickle'], { type: 'str', hex: hex(PICKLE_SHAPED) });
    assert.deepEqual(read['n:bytes'], { type: 'bytes', hex: BYTES.toString('hex') });
    assert.deepEqual(read['n:empty'], { type: 'bytes', hex: '' });
    // pylibmc has no JSON type: a clean error, not a misread.
    assert.deepEqual(read['n:json'], { error: 'unknown memcached key flags 6' });
  });

  test('values pylibmc writes, this client reads byte for byte (str as string, bytes as Buffer)', async () => {
    const server = servers[0]!;
    await runPeer({
      servers: [server.address],
      write: {
        'p:text': { type: 'str', hex: hex(TEXT) },
        'p:bytes': { type: 'bytes', hex: BYTES.toString('hex') },
      },
    });
    assert.deepEqual(await storedFlags(server, ['p:text', 'p:bytes']), [16, 0]);
    const client = new MemcachedClient({ servers: [server.address] });
    const [text, bytes] = await client.getMulti(['p:text', 'p:bytes']);
    await client.close();
    assert.equal(text, TEXT);
    assert.ok(Buffer.isBuffer(bytes));
    assert.equal(bytes.toString('hex'), BYTES.toString('hex'));
  });

  const KEYS = Array.from({ length: 200 }, (_, i) => `ring-key-${i}`);

  /** How many of pylibmc's keys our client finds, and how many of ours pylibmc finds. */
  async function crossReads(
    behaviors: Record<string, unknown>,
    distribution: KetamaDistribution,
    weights: number[],
  ): Promise<{ oursFound: number; theirsFound: number }> {
    const specs = servers.map((s, i) => `${s.address}:${weights[i]}`);
    const client = new MemcachedClient({ servers: specs, distribution });
    try {
      await Promise.all(servers.map((s) => flushServer(s)));
      const write = Object.fromEntries(KEYS.map((k) => [k, { type: 'str' as const, hex: hex(k) }]));
      await runPeer({ servers: specs, behaviors, write });
      const values = await client.getMulti(KEYS);
      const oursFound = values.filter((v, i) => v === KEYS[i]).length;
      await Promise.all(servers.map((s) => flushServer(s)));
      await Promise.all(KEYS.map((k) => client.set(k, k)));
      const read = await runPeer({ servers: specs, behaviors, read: KEYS });
      const theirsFound = KEYS.filter(
        (k) => JSON.stringify(read[k]) === JSON.stringify({ type: 'str', hex: hex(k) }),
      ).length;
      return { oursFound, theirsFound };
    } finally {
      await client.close();
    }
  }

  test("ketama: pylibmc {ketama_weighted} places keys as 'ketama-weighted' (weights 1, 2, 3)", async () => {
    const all = { oursFound: KEYS.length, theirsFound: KEYS.length };
    assert.deepEqual(
      await crossReads({ ketama_weighted: true }, 'ketama-weighted', [1, 2, 3]),
      all,
    );
  });

  test("ketama: pylibmc {ketama, hash: md5} places keys as 'ketama'", async () => {
    const all = { oursFound: KEYS.length, theirsFound: KEYS.length };
    assert.deepEqual(await crossReads({ ketama: true, hash: 'md5' }, 'ketama', [1, 1, 1]), all);
  });

  test("ketama: pylibmc {ketama} alone hashes keys one-at-a-time and does not match 'ketama'", async () => {
    const { oursFound } = await crossReads({ ketama: true }, 'ketama', [1, 1, 1]);
    assert.ok(oursFound < KEYS.length * 0.8, `${oursFound} of ${KEYS.length} keys matched`);
  });
});

async function flushServer(server: MemcachedServer): Promise<void> {
  const client = new MemcachedClient({ servers: [server.address] });
  await client.flush();
  await client.close();
}
