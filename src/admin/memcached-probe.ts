/**
 * Whether each memcached server answers, for the `syncstorage_memcached_up`
 * gauge: one small client per server (the serving client spreads keys over
 * all of them and cannot address one), asked for its `version` at scrape
 * time with a short timeout.
 */
import { MemcachedClient } from '@syncstorage-ts/memcache';

export class MemcachedProbe {
  readonly #clients = new Map<string, MemcachedClient>();

  constructor(readonly servers: readonly string[]) {
    for (const server of servers) {
      this.#clients.set(
        server,
        new MemcachedClient({
          servers: [server],
          connectTimeout: 1000,
          requestTimeout: 1000,
          poolSize: 1,
          retryInterval: 1000,
        }),
      );
    }
  }

  probe = async (server: string): Promise<boolean> => {
    const client = this.#clients.get(server);
    if (!client) return false;
    try {
      await client.version();
      return true;
    } catch {
      return false;
    }
  };

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((client) => client.close()));
  }
}
