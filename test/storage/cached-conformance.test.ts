/**
 * The whole SyncStorage conformance suite on the cached layer, with the
 * production collection setup (`meta`, `clients` cached, `tabs` cache-only):
 * over SQLite and over PostgreSQL (narrowed by STORAGE_BACKENDS), each with
 * a real memcached and with the in-process MemoryStore, and over MariaDB with
 * memcached.
 */
import { after, before, describe } from 'node:test';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import { MemoryStore } from '@syncstorage-ts/memcache';
import { createCachedStorage, PRODUCTION_DEFAULTS } from '../../src/storage/cached/index.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';
import { startMariadb, type MariadbServer } from '@syncstorage-ts/test-support';
import { startPostgres, type PostgresServer } from '@syncstorage-ts/test-support';
import { registerSyncStorageConformance } from './conformance.js';
import { skipUnless } from './support/storage-backends.js';

type CacheKind = 'memcached' | 'memory';

function register(
  backend: string,
  url: () => string,
  cacheKind: CacheKind,
  server: () => MemcachedServer | undefined,
): void {
  registerSyncStorageConformance({
    name: `cached over ${backend} with ${cacheKind}`,
    create: async ({ clock }) => {
      const cache =
        cacheKind === 'memory'
          ? new MemoryStore()
          : new MemcachedClient({ servers: [server()!.address] });
      const storage = createCachedStorage({
        storage: await openSqlStorage({ url: url(), clock, lockTimeoutMs: 3000 }),
        cache,
        ...PRODUCTION_DEFAULTS,
        // Each test has fresh user ids, but a prefix per storage keeps runs apart.
        keyPrefix: `t${Math.random().toString(36).slice(2, 8)}:`,
        clock,
      });
      return { storage };
    },
    capabilities: { clock: true },
  });
}

describe('cached layer over SQLite', skipUnless('sqlite'), () => {
  let mc: MemcachedServer | undefined;
  before(async () => {
    mc = await startMemcached();
  });
  after(() => mc?.stop());
  register(
    'sqlite::memory:',
    () => 'sqlite::memory:',
    'memory',
    () => mc,
  );
  register(
    'sqlite::memory:',
    () => 'sqlite::memory:',
    'memcached',
    () => mc,
  );
});

describe('cached layer over PostgreSQL', skipUnless('postgres'), () => {
  let mc: MemcachedServer | undefined;
  let pg: PostgresServer | undefined;
  let url = '';
  before(async () => {
    [mc, pg] = await Promise.all([startMemcached(), startPostgres()]);
    url = await pg.createDatabase('cached_conformance');
  });
  after(async () => {
    await mc?.stop();
    await pg?.stop();
  });
  register(
    'postgres',
    () => url,
    'memory',
    () => mc,
  );
  register(
    'postgres',
    () => url,
    'memcached',
    () => mc,
  );
});

describe('cached layer over MariaDB', skipUnless('mariadb'), () => {
  let mc: MemcachedServer | undefined;
  let db: MariadbServer | undefined;
  let url = '';
  before(async () => {
    [mc, db] = await Promise.all([startMemcached(), startMariadb()]);
    url = await db.createDatabase('cached_conformance');
  });
  after(async () => {
    await mc?.stop();
    await db?.stop();
  });
  register(
    'mariadb',
    () => url,
    'memcached',
    () => mc,
  );
});
