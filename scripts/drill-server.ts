/**
 * The server process the fault drills start, kill and restart: builds the
 * app over the storage its flags name and listens, then prints
 * "listening <port>" on stdout. A stand-in for `syncstorage serve` that
 * exposes the memcached client's dead-server retry interval, which the
 * memcached drill's verdict is measured against.
 *
 *   tsx scripts/drill-server.ts --database sqlite:/tmp/x.db --cache memory --port 0
 *   tsx scripts/drill-server.ts --database postgres://… --memcached 127.0.0.1:11211 --retry-interval 2000
 *
 * Secret from $SYNC_MASTER_SECRET.
 */
import { parseArgs } from 'node:util';
import { buildApp } from '../src/server/app.js';
import { MemcachedClient, MemoryStore } from '@syncstorage-ts/memcache';
import { createCachedStorage, PRODUCTION_DEFAULTS } from '../src/storage/cached/index.js';
import { openSqlStorage } from '../src/storage/sql/index.js';
import type { SyncStorage } from '../src/storage/sync-storage.js';

const { values } = parseArgs({
  options: {
    database: { type: 'string', default: 'sqlite:./data/syncstorage.db' },
    cache: { type: 'string', default: 'memory' },
    memcached: { type: 'string' },
    'retry-interval': { type: 'string', default: '2000' },
    port: { type: 'string', default: '0' },
    // FULL (the default) fsyncs every commit; NORMAL survives a process crash, not a power cut.
    'sqlite-synchronous': { type: 'string', default: 'FULL' },
  },
});

const secret = process.env.SYNC_MASTER_SECRET;
if (!secret) throw new Error('set SYNC_MASTER_SECRET');

const synchronous = values['sqlite-synchronous'] === 'NORMAL' ? 'NORMAL' : 'FULL';
const sql = await openSqlStorage({ url: values.database, sqlite: { synchronous } });
let storage: SyncStorage = sql;
if (values.memcached) {
  storage = createCachedStorage({
    storage: sql,
    cache: new MemcachedClient({
      servers: values.memcached.split(','),
      retryInterval: Number(values['retry-interval']),
      connectTimeout: 500,
      requestTimeout: 500,
    }),
    ...PRODUCTION_DEFAULTS,
  });
} else if (values.cache === 'memory') {
  storage = createCachedStorage({ storage: sql, cache: new MemoryStore(), ...PRODUCTION_DEFAULTS });
}

const app = buildApp({ storage, config: { masterSecret: secret } });
await app.listen({ host: '127.0.0.1', port: Number(values.port) });
const address = app.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);

// A clean stop on SIGTERM/SIGINT (a crash is SIGKILL), so `--cpu-prof` profiles get written.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => storage.close())
      .finally(() => process.exit(0));
  });
}
