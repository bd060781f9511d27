/**
 * Builds the app over a real storage backend for route tests, with a signing
 * client and captured JSON log lines. Backends come from an environment
 * matrix (kysely-style): SERVER_BACKENDS=sqlite,postgres,mariadb,cached
 * (default all).
 */
import { after } from 'node:test';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/server/app.js';
import type { ServerConfigInput } from '../../../src/server/config/server-config.js';
import { createLogger } from '../../../src/server/logging/logger.js';
import type { SyncStorage } from '../../../src/storage/sync-storage.js';
import { startMemcached, type MemcachedServer } from '@syncstorage-ts/test-support';
import { startMariadb, type MariadbServer } from '@syncstorage-ts/test-support';
import { startPostgres, type PostgresServer } from '@syncstorage-ts/test-support';
import { injectTransport, SyncClient, type SyncClientOptions } from '../../support/sync-client.js';

/** `cached`: the memcached layer over SQLite, with a real memcached. */
export type Backend = 'sqlite' | 'postgres' | 'mariadb' | 'cached';

const ALL_BACKENDS: readonly string[] = ['sqlite', 'postgres', 'mariadb', 'cached'];

export const SERVER_BACKENDS: Backend[] = (process.env.SERVER_BACKENDS ?? ALL_BACKENDS.join(','))
  .split(',')
  .map((name) => name.trim())
  .filter((name): name is Backend => ALL_BACKENDS.includes(name));

export const MASTER_SECRET = 'test master secret, not for production';

type OpenSqlStorage = (options: { url: string }) => SyncStorage | Promise<SyncStorage>;

// Imported by a computed path: the SQL backend is another layer's module.
const SQL_MODULE = '../../../src/storage/sql/index.js';

async function openSql(url: string): Promise<SyncStorage> {
  const { openSqlStorage } = (await import(SQL_MODULE)) as { openSqlStorage: OpenSqlStorage };
  return openSqlStorage({ url });
}

let postgres: Promise<PostgresServer> | undefined;
let mariadb: Promise<MariadbServer> | undefined;
let memcached: Promise<MemcachedServer> | undefined;

// One PostgreSQL, one MariaDB and one memcached per test file, started on first use and
// stopped after the file's last test (a root-level hook: this module is
// imported at the top of each test file).
after(async () => {
  await (await postgres)?.stop();
  await (await mariadb)?.stop();
  await (await memcached)?.stop();
});
let databases = 0;

/** A fresh, empty storage on `backend`; the caller closes it (`Harness.close`). */
export async function openStorage(backend: Backend): Promise<SyncStorage> {
  let storage: SyncStorage;
  if (backend === 'sqlite') {
    storage = await openSql('sqlite::memory:');
  } else if (backend === 'cached') {
    if (!memcached) {
      memcached = startMemcached();
    }
    const server = await memcached;
    const { createCachedStorage } = await import('../../../src/storage/cached/index.js');
    const { MemcachedClient } = await import('@syncstorage-ts/memcache');
    storage = createCachedStorage({
      storage: await openSql('sqlite::memory:'),
      cache: new MemcachedClient({ servers: [server.address] }),
      cachedCollections: ['meta', 'clients'],
      cacheOnlyCollections: ['tabs'],
      // Each harness gets its own keys on the shared memcached.
      keyPrefix: `h${process.pid}-${++databases}-`,
    });
  } else {
    const server = await (backend === 'mariadb'
      ? (mariadb ??= startMariadb())
      : (postgres ??= startPostgres()));
    databases += 1;
    storage = await openSql(await server.createDatabase(`server_${process.pid}_${databases}`));
  }
  return storage;
}

export interface Harness {
  app: FastifyInstance;
  storage: SyncStorage;
  /** Every JSON log line the app wrote. */
  logs: string[];
  /** A signing client for `uid` through `app.inject()`. */
  client(uid: number, options?: Partial<SyncClientOptions>): SyncClient;
  /** Close the app and its storage. */
  close(): Promise<void>;
}

export interface HarnessOptions {
  backend?: Backend;
  config?: Partial<ServerConfigInput>;
  clock?: () => number;
  /** Wrap the storage (to inject failures). */
  wrap?: (storage: SyncStorage) => SyncStorage;
  /** Open this storage instead of a fresh one on `backend` (e.g. a SQLite file of the test's own). */
  open?: () => Promise<SyncStorage>;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const inner = options.open
    ? await options.open()
    : await openStorage(options.backend ?? 'sqlite');
  const storage = options.wrap ? options.wrap(inner) : inner;
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const app = buildApp({
    storage,
    config: { masterSecret: MASTER_SECRET, ...options.config },
    logger: createLogger({ destination }),
    clock: options.clock,
  });
  await app.ready();
  return {
    close: async () => {
      await app.close();
      await inner.close();
    },
    app,
    storage,
    logs,
    client: (uid, clientOptions = {}) =>
      new SyncClient({
        masterSecret: MASTER_SECRET,
        uid,
        transport: injectTransport(app),
        clock: options.clock,
        ...clientOptions,
      }),
  };
}
