/** The cache toolkit suite over a real memcached, through two client connections. */
import { MemcachedClient } from '@syncstorage-ts/memcache';
import { startMemcached } from '@syncstorage-ts/test-support';
import { registerCacheToolkitSuite } from './toolkit-suite.js';

registerCacheToolkitSuite({
  name: 'memcached',
  capabilities: { memcachedStats: true },
  async setup() {
    const mc = await startMemcached();
    const store = new MemcachedClient({ servers: [mc.address] });
    const peer = new MemcachedClient({ servers: [mc.address] });
    return {
      store,
      peer,
      async close() {
        await Promise.all([store.close(), peer.close()]);
        await mc.stop();
      },
    };
  },
});
