/**
 * Degraded mode against a real memcached that goes away and comes back:
 * nothing throws at the caller, one log line per outage, recovery by itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cache } from '../src/index.js';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import { freePort } from '@syncstorage-ts/test-support';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';
import { recordingLogger, sleep } from './toolkit-context.js';

let mc: MemcachedServer;
let store: MemcachedClient;
before(async () => {
  mc = await startMemcached();
  store = new MemcachedClient({
    servers: [mc.address],
    connectTimeout: 200,
    requestTimeout: 500,
    retryInterval: 200,
  });
});
after(async () => {
  await store.close();
  await mc.stop();
});

test('memcached stopped: calls do not throw, one log line; started again: the cache recovers', async () => {
  const logger = recordingLogger();
  const cache = new Cache({ store, logger, trackKeys: true, name: 'outage' });
  assert.equal(await cache.set('k', 'v'), true);

  await mc.stop();
  for (let i = 0; i < 5; i++) {
    assert.equal(await cache.get('k'), undefined);
    assert.equal(await cache.set('cached value', 'cache_object'), false);
    assert.equal(await cache.getOrSet('g', () => 'loaded'), 'loaded');
    await cache.invalidate('k');
    await cache.invalidateDependencies(['d']);
    assert.deepEqual(await cache.keys(), []);
    assert.deepEqual((await cache.stats()).servers, {});
  }
  assert.equal(cache.degraded, true);
  assert.equal(logger.lines.length, 1, JSON.stringify(logger.lines));
  assert.equal(logger.lines[0]?.obj.cache, 'outage');

  await mc.start();
  const deadline = Date.now() + 10_000;
  while (!(await cache.set('after', 'back')) && Date.now() < deadline) await sleep(100);
  assert.equal(await cache.get('after'), 'back');
  assert.equal(cache.degraded, false);
  assert.equal(logger.lines.length, 2, 'one more line when it recovers');
  assert.ok((await cache.stats()).servers[mc.address]);
});

test('a server that does not exist: the cache works, nothing is stored (seed 003)', async () => {
  const nowhere = new MemcachedClient({
    servers: [`127.0.0.1:${await freePort()}`],
    connectTimeout: 200,
    requestTimeout: 500,
  });
  const logger = recordingLogger();
  const cache = new Cache({ store: nowhere, logger });
  try {
    assert.equal(await cache.set('cache_object', 'cached value'), false);
    assert.equal(await cache.get('cache_object'), undefined);
    assert.equal(await cache.set('ignored', 'notStored'), false);
    assert.equal(await cache.getOrSet('k', () => 'loaded'), 'loaded');
    assert.equal(logger.lines.length, 1);
  } finally {
    await nowhere.close();
  }
});
