/**
 * The token server a command runs: on the storage's own driver when both
 * use one database (the default; one connection pool per SQLite file), else
 * on a driver of its own; its init node registered (syncstorage-rs
 * `init_node_url`: inserted when missing, capacity updated when given).
 * A database that fails at start is a StartupError naming the option that
 * gave its URL (--database when shared, else --tokenserver-database).
 */
import type { Logger } from 'pino';
import { observeSqlDriver, type SqlObserver } from '../sql/observed-sql-driver.js';
import type { SqlDriver } from '../sql/sql-types.js';
import type { TokenserverObserver } from '../tokenserver/tokenserver-observer.js';
import { createTokenserver, TokenserverStore, type Tokenserver } from '../tokenserver/index.js';
import { ConfigError } from '../server/config/server-config.js';
import { inOptionNames, type ServeConfig } from './config/load-config.js';
import {
  DATABASE_OPTION,
  explainDatabaseFailure,
  TOKENSERVER_DATABASE_OPTION,
} from './database-startup-error.js';
import { openDriver } from './open-storage.js';

export interface OpenTokenserverOptions {
  config: Readonly<ServeConfig>;
  masterSecret: string;
  /** The storage's driver, shared when the token server database is the same URL. */
  storageDriver?: SqlDriver;
  /** The node to register when `init_node_url` is not set (serve: its public URL); none: nothing. */
  defaultNode?: string;
  logger: Logger;
  /** The metrics: told about tokens, assignments and verifications, and (a driver of its own) each statement. */
  observer?: TokenserverObserver & SqlObserver;
}

/** The token server's database URL and the option that gave it. */
function tokenserverDatabase(config: Readonly<ServeConfig>): { url: string; option: string } {
  const url = config.tokenserver.database;
  return { url, option: url === config.database ? DATABASE_OPTION : TOKENSERVER_DATABASE_OPTION };
}

/** A failure of the token server's start (its migration, its node) as one line. */
function explainStartFailure(config: Readonly<ServeConfig>, error: unknown): Error {
  if (error instanceof ConfigError) return inOptionNames(error);
  const { url, option } = tokenserverDatabase(config);
  return explainDatabaseFailure(url, error, option);
}

export async function openTokenserver(options: OpenTokenserverOptions): Promise<Tokenserver> {
  const { config, logger } = options;
  const settings = config.tokenserver;
  const { url, option } = tokenserverDatabase(config);
  const shared = options.storageDriver !== undefined && url === config.database;
  const own = async () => {
    const opened = await openDriver(url, { dataDir: config.dataDir, option });
    return options.observer ? observeSqlDriver(opened, options.observer) : opened;
  };
  const driver = shared ? options.storageDriver! : await own();
  const log = logger.child({ component: 'tokenserver' });
  let tokenserver: Tokenserver | undefined;
  try {
    tokenserver = await createTokenserver({
      driver,
      ownsDriver: !shared,
      config: {
        nodeType: (options.storageDriver ?? driver).dialect.name,
        ...settings.options,
        masterSecret: options.masterSecret,
        retryAfterSeconds: config.retryAfterSeconds,
      },
      observer: options.observer,
      onRefused: (fxaUid) =>
        log.warn({ fxaUid }, 'FxA account refused: not on tokenserver.allowed_users'),
    });
    const node = (settings.initNodeUrl ?? options.defaultNode)?.replace(/\/+$/, '');
    if (node) {
      const added = await tokenserver.store.ensureNode(
        node,
        settings.initNodeCapacity,
        settings.initNodeCapacitySet,
      );
      log.info({ node, added, capacity: settings.initNodeCapacity }, 'storage node registered');
    }
    return tokenserver;
  } catch (error) {
    // createTokenserver closes its store when its migration fails.
    if (tokenserver) await tokenserver.close().catch(() => undefined);
    else if (!shared) await driver.close().catch(() => undefined);
    throw explainStartFailure(config, error);
  }
}

/**
 * The token server's tables for an admin command (`nodes`, `users`,
 * `purge`): its database from the configuration, migrated, closed after `body`.
 */
export async function withTokenserverStore<T>(
  config: Readonly<ServeConfig>,
  body: (store: TokenserverStore) => Promise<T>,
  /** The storage's driver: used when the token server database is the same URL. */
  storageDriver?: SqlDriver,
): Promise<T> {
  const { url, option } = tokenserverDatabase(config);
  const shared = storageDriver !== undefined && url === config.database;
  const store = new TokenserverStore({
    driver: shared ? storageDriver : await openDriver(url, { dataDir: config.dataDir, option }),
    ownsDriver: !shared,
  });
  try {
    try {
      await store.migrate();
    } catch (error) {
      throw explainStartFailure(config, error);
    }
    return await body(store);
  } finally {
    await store.close();
  }
}
