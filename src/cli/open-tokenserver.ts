/**
 * The token server a command runs: on the storage's own driver when both
 * use one database (the default; one connection pool per SQLite file), else
 * on a driver of its own; its init node registered (syncstorage-rs
 * `init_node_url`: inserted when missing, capacity updated when given).
 */
import type { Logger } from 'pino';
import { observeSqlDriver, type SqlObserver } from '../sql/observed-sql-driver.js';
import type { SqlDriver } from '../sql/sql-types.js';
import type { TokenserverObserver } from '../tokenserver/tokenserver-observer.js';
import { createTokenserver, TokenserverStore, type Tokenserver } from '../tokenserver/index.js';
import type { ServeConfig } from './config/load-config.js';
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

export async function openTokenserver(options: OpenTokenserverOptions): Promise<Tokenserver> {
  const { config, logger } = options;
  const settings = config.tokenserver;
  const shared = options.storageDriver !== undefined && settings.database === config.database;
  const own = async () => {
    const opened = await openDriver(settings.database);
    return options.observer ? observeSqlDriver(opened, options.observer) : opened;
  };
  const driver = shared ? options.storageDriver! : await own();
  const log = logger.child({ component: 'tokenserver' });
  let tokenserver: Tokenserver;
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
  } catch (error) {
    if (!shared) await driver.close().catch(() => undefined);
    throw error;
  }
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
  const shared = storageDriver !== undefined && config.tokenserver.database === config.database;
  const store = new TokenserverStore({
    driver: shared ? storageDriver : await openDriver(config.tokenserver.database),
    ownsDriver: !shared,
  });
  try {
    await store.migrate();
    return await body(store);
  } finally {
    await store.close();
  }
}
