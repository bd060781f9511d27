/**
 * Failure handling that must hold under load: no reconnect storm, backoff
 * between failed connects, and no unhandled promise rejection whatever fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { CacheError, MemcachedClient } from '../src/index.js';
import { freePort } from '@syncstorage-ts/test-support';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';

/** Count `net.connect` calls (the client's TCP connects) while `fn` runs. */
async function countConnects(fn: () => Promise<void>): Promise<number> {
  const original = net.connect;
  let calls = 0;
  (net as { connect: typeof net.connect }).connect = ((...args: Parameters<typeof net.connect>) => {
    calls++;
    return original(...args);
  }) as typeof net.connect;
  try {
    await fn();
  } finally {
    (net as { connect: typeof net.connect }).connect = original;
  }
  return calls;
}

describe('resilience', () => {
  let server: MemcachedServer;
  before(async () => {
    server = await startMemcached();
  });
  after(async () => {
    await server?.stop();
  });

  test('1000 concurrent requests on a fresh client open exactly poolSize connections', async () => {
    const client = new MemcachedClient({ servers: [server.address], poolSize: 3 });
    try {
      const connects = await countConnects(async () => {
        await Promise.all(Array.from({ length: 1000 }, (_, i) => client.set(`storm:${i}`, i)));
      });
      assert.equal(connects, 3);
    } finally {
      await client.close();
    }
  });

  test('a refusing server: one connect attempt for a burst, then backoff, then the dead interval', async () => {
    const port = await freePort();
    const client = new MemcachedClient({
      servers: [`127.0.0.1:${port}`],
      failureLimit: 3,
      retryInterval: 60_000,
      reconnectDelay: 5000,
      maxReconnectDelay: 5000,
    });
    try {
      const connects = await countConnects(async () => {
        // A burst queued in one tick shares one connect attempt.
        const burst = await Promise.allSettled(Array.from({ length: 500 }, () => client.get('k')));
        assert.ok(burst.every((r) => r.status === 'rejected'));
        // Inside the backoff: failing fast, no new attempt.
        for (let i = 0; i < 100; i++) {
          await assert.rejects(client.get('k'), /reconnecting after 1 failed connect/);
        }
      });
      assert.equal(connects, 1);
    } finally {
      await client.close();
    }
  });

  test('no unhandled rejection escapes, whatever fails', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const deadPort = await freePort();
    const victim = await startMemcached();
    const client = new MemcachedClient({
      servers: [server.address, victim.address, `127.0.0.1:${deadPort}`],
      connectTimeout: 200,
      requestTimeout: 300,
      failureLimit: 1,
      retryInterval: 100,
    });
    try {
      await victim.kill();
      const keys = Array.from({ length: 60 }, (_, i) => `u:${i}`);
      const calls: Array<Promise<unknown>> = [];
      for (const key of keys) {
        calls.push(
          client.get(key),
          client.set(key, key),
          client.incr(key),
          client.lease(key, { vivifyTtl: 5 }),
        );
      }
      calls.push(client.getMulti(keys), client.stats(), client.version(), client.flush());
      const settled = await Promise.allSettled(calls);
      const failures = settled.filter((r) => r.status === 'rejected');
      assert.ok(failures.length > 0, 'some calls failed');
      for (const failure of failures) {
        assert.ok((failure as PromiseRejectedResult).reason instanceof CacheError);
      }
      // Close with requests still in flight, then call again.
      const late = [client.get('u:1'), client.close(), client.get('u:2')];
      await Promise.allSettled(late);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await client.close();
      await victim.stop();
    }
  });
});
