/**
 * Issue 13, case 3: two memcached servers on the ring, and one process (A)
 * that thinks one of them dead while another process (B) does not — a
 * network cut between A and that server only (a TCP proxy the test cuts).
 * A must not acknowledge a write B cannot see: the storage layer's keys
 * never move to another server (a dead server is a miss, not a new home),
 * and a write whose dirty mark cannot be made is refused, nothing written.
 * Two storage stacks with their own clients stand for the two processes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import {
  startMemcached,
  startPostgres,
  startTcpProxy,
  type MemcachedServer,
  type PostgresServer,
  type TcpProxy,
} from '@syncstorage-ts/test-support';
import {
  createCachedStorage,
  PRODUCTION_DEFAULTS,
  type CachedStorage,
} from '../../src/storage/cached/index.js';
import { StorageInputError, StorageUnavailableError } from '../../src/storage/errors.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { ObservedCacheStore } from '../../src/admin/metrics/observed-cache-store.js';

describe('cached layer: two processes disagree on which memcached server is alive', () => {
  let pg: PostgresServer;
  let s1: MemcachedServer;
  let s2: MemcachedServer;
  let proxy: TcpProxy;
  const stacks: CachedStorage[] = [];
  let servers: string[];
  const client = (failover = false) =>
    new MemcachedClient({
      servers,
      failover,
      connectTimeout: 200,
      requestTimeout: 300,
      reconnectDelay: 10,
      maxReconnectDelay: 50,
    });
  const stack = async (): Promise<{ storage: CachedStorage; cache: MemcachedClient }> => {
    const cache = client();
    const storage = createCachedStorage({
      storage: await openSqlStorage({ url: pg.url }),
      cache,
      ...PRODUCTION_DEFAULTS,
    });
    stacks.push(storage);
    return { storage, cache };
  };

  before(async () => {
    [pg, s1, s2] = await Promise.all([startPostgres(), startMemcached(), startMemcached()]);
    proxy = await startTcpProxy(s1.port);
    servers = [proxy.address, s2.address];
  });
  after(async () => {
    await Promise.all(stacks.map((s) => s.close()));
    await proxy?.close();
    await Promise.all([pg?.stop(), s1?.stop(), s2?.stop()]);
  });

  test('a client that fails over on the ring is refused by the storage layer, wrapped or not', async () => {
    const storage = await openSqlStorage({ url: pg.url });
    // serve wraps the client in the metrics observer: the refusal must see through it.
    const wrapped = new ObservedCacheStore(client(true), { cacheRead() {} }, () => 'any');
    for (const cache of [client(true), wrapped]) {
      assert.throws(
        () => createCachedStorage({ storage, cache, ...PRODUCTION_DEFAULTS }),
        (error: unknown) => error instanceof StorageInputError && /failover/.test(error.message),
      );
    }
    await storage.close();
  });

  test('A cut off from one server: its writes are refused, B never serves a stale copy', async () => {
    const a = await stack();
    const b = await stack();
    // A user whose metadata lives on the server behind the proxy.
    let user = 7000 + Math.floor(Math.random() * 100_000);
    while (a.cache.serverFor(`${user}:metadata`) !== proxy.address) user++;

    const t1 = await a.storage.setItems(user, 'meta', [{ id: 'global', payload: 'v1' }]);
    assert.equal((await b.storage.getItem(user, 'meta', 'global')).payload, 'v1');

    proxy.cut();
    // A meets the cut and marks the server dead; B is not asked meanwhile.
    for (let i = 0; i < 3; i++) await a.storage.getCollectionTimestamps(user);
    proxy.restore();
    for (let i = 0; !(await b.storage.healthCheck()).cache; i++) assert.ok(i < 50);
    assert.equal((await b.storage.getItem(user, 'meta', 'global')).payload, 'v1');

    let acknowledged: number | undefined;
    try {
      acknowledged = await a.storage.setItems(user, 'meta', [{ id: 'global', payload: 'v2' }]);
    } catch (error) {
      assert.ok(error instanceof StorageUnavailableError, String(error));
    }
    const seen = await b.storage.getItem(user, 'meta', 'global');
    if (acknowledged === undefined) {
      assert.equal(seen.payload, 'v1', 'a refused write wrote nothing');
      assert.equal(await b.storage.getCollectionTimestamp(user, 'meta'), t1);
    } else {
      assert.equal(seen.payload, 'v2', 'B reads what A acknowledged');
    }
  });
});
