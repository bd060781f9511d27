/**
 * The storage `serve` runs on: the SQL backend for `--database`, under the
 * cached layer with the in-process cache (embedded default) or memcached
 * (`--memcached`), or bare with `--cache none`. Failures to open are
 * `StartupError`s naming the cause and the option (database-startup-error.ts).
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { MemcachedClient, MemoryStore, type CacheStore } from '@syncstorage-ts/memcache';
import type { MemcachedProbe } from '../admin/memcached-probe.js';
import { cacheKeyKind } from '../admin/metrics/cache-key-kind.js';
import { ObservedCacheStore, type CacheObserver } from '../admin/metrics/observed-cache-store.js';
import { createCachedStorage } from '../storage/cached/index.js';
import { openSqlDriver } from '../sql/open-sql-driver.js';
import type { SqlDriver } from '../sql/sql-types.js';
import { openSqlStorage, sqlitePathOf, type SqlStorage } from '../storage/sql/index.js';
import type { SyncStorage } from '../storage/sync-storage.js';
import type { DatabaseClaimMode } from '../sql/database-claim.js';
import type { ServeConfig } from './config/load-config.js';
import { DATABASE_OPTION, explainDatabaseFailure } from './database-startup-error.js';
import { causeMessage, DATA_DIR_OPTION, StartupError } from './startup-error.js';

export interface OpenDatabaseOptions {
  /** The data folder: a SQLite file inside it is blamed on --data-dir, elsewhere on --database. */
  dataDir?: string;
  /**
   * The command that needs an existing database (`purge`: never create an
   * empty one in the wrong folder); the message names the data folder.
   */
  mustExist?: string;
  /** The option that gave the URL, named in failures. Default --database. */
  option?: string;
}

export { DATA_DIR_OPTION };

/** A folder for our files: created 0700 (it holds the secret and the data). */
export function ensurePrivateFolder(path: string, option: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    accessSync(path, constants.W_OK);
  } catch (error) {
    throw new StartupError(`cannot write to the folder ${path}: ${causeMessage(error)}`, {
      option,
      cause: error,
    });
  }
}

/** A driver for a database URL. Creates a SQLite file's folder (0700), checks it can be written. */
export async function openDriver(
  url: string,
  options: OpenDatabaseOptions = {},
): Promise<SqlDriver> {
  if (url.startsWith('sqlite:')) {
    const path = sqlitePathOf(url);
    if (path !== ':memory:') checkSqliteFile(path, options);
  }
  try {
    return await openSqlDriver({ url });
  } catch (error) {
    throw explainDatabaseFailure(url, error, options.option);
  }
}

/**
 * The SQL backend alone (also what `purge` works on), on `options.driver`
 * when one is open on the URL already (the token server shares it).
 */
export async function openDatabase(
  url: string,
  options: OpenDatabaseOptions & { driver?: SqlDriver; claim?: DatabaseClaimMode } = {},
): Promise<SqlStorage> {
  const driver = options.driver ?? (await openDriver(url, options));
  try {
    // With `claim`, this process's claim on the database (src/sql/database-claim.ts).
    return await openSqlStorage({ url, driver, claim: options.claim });
  } catch (error) {
    throw explainDatabaseFailure(url, error, options.option);
  }
}

function checkSqliteFile(path: string, options: OpenDatabaseOptions): void {
  const inDataDir =
    options.dataDir !== undefined && resolve(dirname(path)) === resolve(options.dataDir);
  const option = inDataDir ? DATA_DIR_OPTION : (options.option ?? DATABASE_OPTION);
  if (options.mustExist && !existsSync(path)) {
    throw new StartupError(
      `no database at ${path} (looked in the data folder ${options.dataDir ?? dirname(path)}): ${options.mustExist} works on an existing database and creates none`,
      { option: `${DATA_DIR_OPTION} or ${DATABASE_OPTION}` },
    );
  }
  // SQLite writes its journal (-wal, -shm) beside the file: the folder must be writable too.
  ensurePrivateFolder(dirname(path), option);
  if (existsSync(path)) {
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch (error) {
      throw new StartupError(`the SQLite file ${path} is read-only: ${causeMessage(error)}`, {
        option,
        cause: error,
      });
    }
  }
}

export interface ServeStorage {
  /** What the API serves from (the cached layer, unless `--cache none`). */
  storage: SyncStorage;
  /** The SQL backend beneath it (the operator's directory of users). */
  database: SqlStorage;
  /** The cache all processes share (memcached), for what must hold across them (Hawk nonces). */
  sharedCache?: CacheStore;
}

export async function openServeStorage(
  config: ServeConfig,
  logger: Logger,
  driver?: SqlDriver,
  cacheObserver?: CacheObserver,
): Promise<ServeStorage> {
  // An in-process cache is only right where this process owns the data
  // (issue 13): the database refuses a second owner, and owners and sharers
  // exclude each other. One claim per process, whoever else shares the driver.
  const database = await openDatabase(config.database, {
    dataDir: config.dataDir,
    driver,
    claim: config.cache === 'memory' ? 'owner' : 'sharer',
  });
  if (config.cache === 'none') return { storage: database, database };
  const store: CacheStore =
    config.cache === 'memcached'
      ? new MemcachedClient({
          servers: config.memcached,
          retryInterval: config.memcachedRetrySeconds * 1000,
        })
      : new MemoryStore();
  const cache = cacheObserver
    ? new ObservedCacheStore(
        store,
        cacheObserver,
        cacheKeyKind('', new Set(config.cacheOnlyCollections)),
      )
    : store;
  const cacheLogger = logger.child({ component: 'cache' });
  const storage = createCachedStorage({
    storage: database,
    cache,
    cachedCollections: config.cachedCollections,
    cacheOnlyCollections: config.cacheOnlyCollections,
    logger: cacheLogger,
  });
  return config.cache === 'memcached'
    ? { storage, database, sharedCache: store }
    : { storage, database };
}

/**
 * A memcached that does not answer at start is a warning, not silence until
 * the first request: each configured server is asked (`version`) on its own,
 * and the line names every one that does not answer; undefined when all do.
 */
export async function memcachedWarning(
  config: ServeConfig,
  probe: Pick<MemcachedProbe, 'probe'> | undefined,
): Promise<string | undefined> {
  if (config.cache !== 'memcached' || probe === undefined) return undefined;
  const answers = await Promise.all(config.memcached.map((server) => probe.probe(server)));
  const silent = config.memcached.filter((_, i) => !answers[i]);
  if (silent.length === 0) return undefined;
  const of = silent.length < config.memcached.length ? ` (of ${config.memcached.join(', ')})` : '';
  const cacheOnly = config.cacheOnlyCollections.length
    ? `; cache-only collections (${config.cacheOnlyCollections.join(',')}) whose keys are there answer 503`
    : '';
  // Each server holds its share of the keys, with no failover (issue 13).
  return (
    `memcached ${silent.join(', ')}${of} ${silent.length === 1 ? 'does' : 'do'} not answer ` +
    `(check --memcached, SYNC_MEMCACHED_SERVERS): reads of the keys there go to the database, ` +
    `writes that need them answer 503 meanwhile (issue 13)${cacheOnly}`
  );
}
