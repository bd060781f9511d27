/** The cache toolkit suite over the in-process store. */
import { MemoryStore } from '@syncstorage-ts/memcache';
import { registerCacheToolkitSuite } from './toolkit-suite.js';

registerCacheToolkitSuite({
  name: 'MemoryStore',
  capabilities: { memcachedStats: false },
  async setup() {
    const store = new MemoryStore();
    return { store, close: () => store.close() };
  },
});
