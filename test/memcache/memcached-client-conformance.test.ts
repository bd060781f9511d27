/**
 * The shared CacheStore conformance suite against a real memcached (Debian's,
 * started on a free loopback port). memcached's clock ticks once a second, so
 * the suite's expiry tests sleep instead of moving a fake clock.
 */
import { after, before } from 'node:test';
import { MemcachedClient } from '../../src/memcache/index.js';
import { startMemcached, type MemcachedServer } from '../support/memcached-server.js';
import { registerStoreConformance } from './store-conformance.js';

let server: MemcachedServer;
before(async () => {
  server = await startMemcached();
});
after(async () => {
  await server?.stop();
});

registerStoreConformance({
  name: 'MemcachedClient (real memcached)',
  createStore: async () => {
    const client = new MemcachedClient({ servers: [server.address] });
    await client.flush();
    return client;
  },
});
