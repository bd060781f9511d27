/**
 * The shared CacheStore conformance suite against real memcached (Debian's,
 * started on free loopback ports): one server, and a ketama ring of three so
 * the multi-server paths (getMulti split per server, stats/version/flush on
 * every server) pass the same contract. memcached's clock ticks once a second,
 * so the suite's expiry tests sleep instead of moving a fake clock.
 */
import { after, before } from 'node:test';
import { MemcachedClient } from '../src/index.js';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';
import { registerStoreConformance } from '@syncstorage-ts/memcache/conformance';

const servers: MemcachedServer[] = [];
before(async () => {
  for (let i = 0; i < 3; i++) servers.push(await startMemcached());
});
after(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

async function clientOf(addresses: string[]): Promise<MemcachedClient> {
  const client = new MemcachedClient({ servers: addresses });
  await client.flush();
  return client;
}

registerStoreConformance({
  name: 'MemcachedClient (real memcached)',
  createStore: () => clientOf([(servers[0] as MemcachedServer).address]),
});

registerStoreConformance({
  name: 'MemcachedClient (three real memcached, ketama)',
  createStore: () => clientOf(servers.map((server) => server.address)),
});
