/**
 * The storage `serve` runs on: the SQL backend for `--database`, under the
 * cached layer with the in-process cache (embedded default) or memcached
 * (`--memcached`), or bare with `--cache none`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { MemcachedClient, MemoryStore } from '@syncstorage-ts/memcache';
import { createCachedStorage } from '../storage/cached/index.js';
import { openSqlDriver } from '../sql/open-sql-driver.js';
import type { SqlDriver } from '../sql/sql-types.js';
import { openSqlStorage, sqlitePathOf } from '../storage/sql/index.js';
import type { SyncStorage } from '../storage/sync-storage.js';
import type { ServeConfig } from './config/load-config.js';

/** A driver for a database URL. Creates a SQLite file's folder. */
export async function openDriver(url: string): Promise<SqlDriver> {
  if (url.startsWith('sqlite:')) {
    const path = sqlitePathOf(url);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  }
  return openSqlDriver({ url });
}

/**
 * The SQL backend alone (also what `purge` works on), on `driver` when one
 * is open on the URL already (the token server shares it).
 */
export async function openDatabase(url: string, driver?: SqlDriver): Promise<SyncStorage> {
  return openSqlStorage({ url, driver: driver ?? (await openDriver(url)) });
}

export async function openServeStorage(
  config: ServeConfig,
  logger: Logger,
  driver?: SqlDriver,
): Promise<SyncStorage> {
  const database = await openDatabase(config.database, driver);
  if (config.cache === 'none') return database;
  const cache =
    config.cache === 'memcached'
      ? new MemcachedClient({
          servers: config.memcached,
          retryInterval: config.memcachedRetrySeconds * 1000,
        })
      : new MemoryStore();
  const cacheLogger = logger.child({ component: 'cache' });
  return createCachedStorage({
    storage: database,
    cache,
    cachedCollections: config.cachedCollections,
    cacheOnlyCollections: config.cacheOnlyCollections,
    logger: {
      info: (message) => cacheLogger.info(message),
      warn: (message) => cacheLogger.warn(message),
      error: (message) => cacheLogger.error(message),
    },
  });
}
