/**
 * Several real memcached processes: keys spread by ketama and each readable,
 * a port that refuses connections, a server killed and restarted mid-run,
 * failover to the next server on the ring.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheError, CacheUnavailableError, MemcachedClient } from '../src/index.js';
import { freePort } from '@syncstorage-ts/test-support';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function itemsPerServer(client: MemcachedClient): Promise<Record<string, number>> {
  const stats = await client.stats();
  return Object.fromEntries(
    Object.entries(stats).map(([address, s]) => [address, Number(s.curr_items)]),
  );
}

describe('three memcached servers', () => {
  const servers: MemcachedServer[] = [];
  before(async () => {
    for (let i = 0; i < 3; i++) servers.push(await startMemcached());
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  test('keys spread over all servers by weight, and every key reads back', async () => {
    const client = new MemcachedClient({
      servers: servers.map((s, i) => `${s.address}:${i + 1}`),
    });
    try {
      await client.flush();
      const keys = Array.from({ length: 600 }, (_, i) => `spread:${i}`);
      await Promise.all(keys.map((k) => client.set(k, k)));
      const counts = await itemsPerServer(client);
      const [a, b, c] = servers.map((s) => counts[s.address] as number);
      assert.equal(a! + b! + c!, keys.length);
      assert.ok(a! > 40 && a! < b! && b! < c!, `weights 1:2:3 gave ${a}/${b}/${c}`);
      for (const key of keys) {
        const home = client.serverFor(key);
        assert.ok(servers.some((s) => s.address === home));
      }
      assert.deepEqual(await Promise.all(keys.map((k) => client.get(k))), keys);
      assert.deepEqual(await client.getMulti(keys), keys);
      assert.deepEqual(
        Object.keys(await client.version()).sort(),
        servers.map((s) => s.address).sort(),
      );
    } finally {
      await client.close();
    }
  });

  test('a key lives only on its ketama server', async () => {
    const client = new MemcachedClient({ servers: servers.map((s) => s.address) });
    try {
      await client.set('where', 'here');
      const home = client.serverFor('where');
      for (const s of servers) {
        const single = new MemcachedClient({ servers: [s.address] });
        assert.equal(await single.get('where'), s.address === home ? 'here' : undefined);
        await single.close();
      }
      // Another client with the same servers in another order finds it: the ring
      // depends on the server names, not the list order.
      const reordered = new MemcachedClient({ servers: servers.map((s) => s.address).reverse() });
      assert.equal(await reordered.get('where'), 'here');
      await reordered.close();
    } finally {
      await client.close();
    }
  });
});

describe('a port that refuses connections', () => {
  test('calls fail with CacheUnavailableError within the connect timeout, never hang', async () => {
    const port = await freePort();
    const client = new MemcachedClient({ servers: [`127.0.0.1:${port}`], connectTimeout: 1000 });
    try {
      const started = Date.now();
      const results = await Promise.allSettled([
        client.get('a'),
        client.set('b', 1),
        client.getMulti(['a', 'b']),
      ]);
      const elapsed = Date.now() - started;
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        assert.ok((result as PromiseRejectedResult).reason instanceof CacheUnavailableError);
      }
      assert.ok(elapsed < 1000, `failed after ${elapsed} ms`);
      // Marked dead now: the next call fails at once without touching the network.
      const again = Date.now();
      await assert.rejects(client.get('a'), CacheUnavailableError);
      assert.ok(Date.now() - again < 200);
    } finally {
      await client.close();
    }
  });

  test('a connect that never completes fails within connectTimeout', async () => {
    // A non-routable address would leave the loopback; instead fill a listener's backlog?
    // The portable way here: a TLS client against a plain TCP server that never answers
    // the handshake — the connection is not usable until the handshake, so connectTimeout applies.
    const net = await import('node:net');
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as import('node:net').AddressInfo;
    const client = new MemcachedClient({
      servers: [`127.0.0.1:${port}`],
      tls: { rejectUnauthorized: false },
      connectTimeout: 200,
      requestTimeout: 5000,
    });
    try {
      const started = Date.now();
      await assert.rejects(client.get('a'), (error: unknown) => {
        assert.ok(error instanceof CacheError);
        assert.equal(error.code, 'CACHE_TIMEOUT');
        return true;
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 190 && elapsed < 1000, `failed after ${elapsed} ms`);
    } finally {
      await client.close();
      silent.close();
    }
  });
});

describe('a server killed and restarted mid-run', () => {
  test('requests fail fast while it is dead, then recover after the retry interval', async () => {
    const server = await startMemcached();
    const retryInterval = 1500;
    const client = new MemcachedClient({
      servers: [server.address],
      retryInterval,
      failureLimit: 2,
      connectTimeout: 300,
    });
    try {
      assert.equal(await client.set('k', 'v'), true);
      await server.kill();
      // The socket was on a dead process: the first calls fail, the server is marked dead.
      await assert.rejects(client.get('k'), CacheUnavailableError);
      await assert.rejects(client.get('k'), CacheUnavailableError);
      // While dead: fail fast, no connection attempts.
      const started = Date.now();
      for (let i = 0; i < 50; i++) await assert.rejects(client.get('k'), CacheUnavailableError);
      assert.ok(Date.now() - started < 1000, 'dead server fails fast');
      await server.start();
      // Still inside the retry interval: still failing fast though the server is back.
      await assert.rejects(client.get('k'), /marked dead/);
      await sleep(retryInterval + 50);
      // memcached restarted empty; the client reconnects and works again.
      assert.equal(await client.get('k'), undefined);
      assert.equal(await client.set('k', 'again'), true);
      assert.equal(await client.get('k'), 'again');
    } finally {
      await client.close();
      await server.stop();
    }
  });

  test('with failover, a dead server’s keys go to the next server on the ring', async () => {
    const servers = [await startMemcached(), await startMemcached(), await startMemcached()];
    const client = new MemcachedClient({
      servers: servers.map((s) => s.address),
      failover: true,
      retryInterval: 60_000,
      failureLimit: 1,
      connectTimeout: 300,
    });
    try {
      const keys = Array.from({ length: 90 }, (_, i) => `fo:${i}`);
      const homes = new Map(keys.map((k) => [k, client.serverFor(k)]));
      const victim = servers[0] as MemcachedServer;
      const victimKeys = keys.filter((k) => homes.get(k) === victim.address);
      assert.ok(victimKeys.length > 0);
      await victim.kill();
      // The first request to the dead server fails (and marks it dead) ...
      await assert.rejects(client.get(victimKeys[0] as string), CacheUnavailableError);
      // ... then its keys are served by the others, the rest stay where they were.
      for (const key of keys) {
        const now = client.serverFor(key);
        if (homes.get(key) === victim.address) assert.notEqual(now, victim.address);
        else assert.equal(now, homes.get(key));
      }
      await Promise.all(keys.map((k) => client.set(k, k)));
      assert.deepEqual(await client.getMulti(keys), keys);
    } finally {
      await client.close();
      await Promise.all(servers.map((s) => s.stop()));
    }
  });
});
