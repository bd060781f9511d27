// __heartbeat__ is 503 only when the database is down: memcached down is
// reported in the body while the node still serves (issue 14).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import { startMemcached } from '@syncstorage-ts/test-support';
import { buildApp } from '../../src/server/app.js';
import { createCachedStorage } from '../../src/storage/cached/index.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { injectTransport, SyncClient } from '../support/sync-client.js';

describe('heartbeat with memcached down', () => {
  test('stays 200 while the database serves, naming the cache as failing', async () => {
    const memcached = await startMemcached();
    after(() => memcached.stop());
    const storage = createCachedStorage({
      storage: await openSqlStorage({ url: 'sqlite::memory:' }),
      cache: new MemcachedClient({ servers: [memcached.address], retryInterval: 60_000 }),
      cachedCollections: ['meta'],
      cacheOnlyCollections: [],
    });
    const app = buildApp({ storage, config: { masterSecret: 's' } });
    after(async () => {
      await app.close();
      await storage.close();
    });
    const client = new SyncClient({ masterSecret: 's', uid: 1, transport: injectTransport(app) });
    const up = await app.inject({ url: '/__heartbeat__' });
    assert.equal(up.statusCode, 200);
    assert.equal((up.json() as { cache: string }).cache, 'Ok');

    await memcached.stop();
    const down = await app.inject({ url: '/__heartbeat__' });
    assert.equal(down.statusCode, 200, 'still serving: not pulled out of the load balancer');
    assert.deepEqual(
      { ...(down.json() as object), version: undefined },
      { status: 'Ok', version: undefined, database: 'Ok', cache: 'Err' },
    );
    // Reads still come from the database; a write that other processes could
    // not see is refused (issue 13: no dirty mark, no write).
    assert.equal((await client.get('/info/collections')).status, 200);
    const put = await client.put('/storage/bookmarks/a', { payload: 'x' });
    assert.equal(put.status, 503);
    assert.ok(Number(put.headers['retry-after']) > 0);
    assert.equal((await app.inject({ url: '/__lbheartbeat__' })).statusCode, 200);
  });
});
