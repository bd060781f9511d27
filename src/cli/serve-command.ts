/**
 * `syncstorage serve`: load and validate the configuration, open storage,
 * listen, and shut down gracefully on SIGTERM/SIGINT (stop accepting, finish
 * requests in flight, close storage and cache).
 */
import { relative as relativePath } from 'node:path';
import type { Command } from 'commander';
import { buildApp } from '../server/app.js';
import {
  ConfigError,
  resolveServerConfig,
  type ServerConfigInput,
} from '../server/config/server-config.js';
import { createLogger } from '../server/logging/logger.js';
import { addTableOptions, commandConfig, warnAtStart } from './command-options.js';
import { inOptionNames, type ServeConfig } from './config/load-config.js';
import { loadOrCreateMasterSecret } from './config/master-secret.js';
import { redactUrl } from './database-startup-error.js';
import { stopOnSignals } from './graceful-shutdown.js';
import { openTokenserver } from './open-tokenserver.js';
import {
  DATA_DIR_OPTION,
  ensurePrivateFolder,
  memcachedWarning,
  openDriver,
  openServeStorage,
} from './open-storage.js';
import { listenOnPublicPort } from './listen-startup-error.js';
import { startUp } from './startup-cleanup.js';
import { createServerMetrics, startOperatorSide } from './admin-listener.js';
import { observeSqlDriver } from '../sql/observed-sql-driver.js';
import { tokenServerAdmin } from '../admin/token-server-store-admin.js';
import type { SqlStorage } from '../storage/sql/index.js';

const HELP = `
Configuration comes from flags, then environment variables, then --config
(a JSON file whose keys mirror the variables: SYNC_SYNCSTORAGE__LIMITS__MAX_POST_RECORDS
is {"syncstorage": {"limits": {"max_post_records": …}}}), then defaults.

Embedded default: SQLite in ./data/syncstorage.db, the in-process cache,
127.0.0.1:8000, and a master secret generated once in ./data/master-secret.
Production: --database postgres://… --memcached host:port,host:port.`;

export function registerServeCommand(program: Command, version: string): void {
  const command = program
    .command('serve')
    .description('run the storage server (SyncStorage API 1.5)')
    .addHelpText('after', HELP);
  addTableOptions(command).action(async (flags: Record<string, unknown>) => {
    const config = commandConfig(flags);
    const logger = createLogger({ level: config.logLevel, buffered: true });
    const started = await startUp(async (opened) => {
      // The database first: a start that fails on it leaves no new secret behind.
      // The metrics observe the database they then read the totals from; the
      // driver is observed once, for storage and token server alike.
      const directory: { database?: SqlStorage } = {};
      const { metrics, probe } = createServerMetrics(config, () => directory.database);
      if (probe) opened(() => probe.close());
      const driver = observeSqlDriver(
        await openDriver(config.database, { dataDir: config.dataDir }),
        metrics,
      );
      opened(() => driver.close());
      const { storage, database, sharedCache } = await openServeStorage(
        config,
        logger,
        driver,
        metrics,
      );
      opened(() => storage.close());
      directory.database = database;
      let masterSecret = config.masterSecret;
      let createdSecretPath: string | undefined;
      if (masterSecret === null) {
        ensurePrivateFolder(config.dataDir, DATA_DIR_OPTION);
        const stored = loadOrCreateMasterSecret(config.dataDir);
        masterSecret = stored.secret;
        if (stored.created) createdSecretPath = stored.path;
      }
      const serverConfig = resolveServerConfigFor({
        masterSecret,
        limits: config.limits,
        quotaBytes: config.quotaBytes,
        skewSeconds: config.skewSeconds,
        trustProxy: config.trustProxy,
        publicUrl: config.publicUrl,
        retryAfterSeconds: config.retryAfterSeconds,
        version,
      });
      if (
        config.tokenserver.enabled &&
        !serverConfig.publicUrl &&
        /^(0\.0\.0\.0|::|\[::\])$/.test(config.host)
      ) {
        logger.warn(
          `tokens will name http://${config.host}:${config.port} as the storage node: set --public-url to the URL clients reach`,
        );
      }
      const tokenserver = config.tokenserver.enabled
        ? await openTokenserver({
            config,
            masterSecret,
            storageDriver: driver,
            // Tokens name this node; it must be the URL clients reach (with its path).
            defaultNode: serverConfig.publicUrl ?? `http://${config.host}:${config.port}`,
            logger,
            observer: metrics,
          })
        : undefined;
      if (tokenserver) opened(() => tokenserver.close());
      const cacheWarning = await memcachedWarning(config, probe);
      if (cacheWarning) {
        warnAtStart(cacheWarning);
        logger.warn({ memcached: config.memcached }, cacheWarning);
      }
      const app = buildApp({
        storage,
        config: serverConfig,
        logger,
        tokenserver,
        observer: metrics,
        sharedCache,
      });
      opened(() => app.close());
      await listenOnPublicPort(app, config);
      const operator = await startOperatorSide({
        config,
        storage: { storage, directory: database },
        ...(tokenserver && { tokenServer: tokenServerAdmin(tokenserver.store) }),
        metrics,
        probe,
        logger,
      });
      return { storage, tokenserver, app, operator, serverConfig, masterSecret, createdSecretPath };
    });
    const { storage, tokenserver, app, operator, serverConfig, masterSecret, createdSecretPath } =
      started;
    if (createdSecretPath !== undefined) {
      // Once listening (a start that fails prints only its error), on the
      // terminal only, never in the JSON logs.
      process.stderr.write(
        `Generated a master secret in ${createdSecretPath} (keep it private):\n  ${masterSecret}\n` +
          `Share it with your token server as SYNC_MASTER_SECRET, or mint a token for uid 1 with:\n` +
          `  ${invocation()} token --uid 1 ${tokenHintOptions(config)}\n`,
      );
    }
    logger.info(
      {
        host: config.host,
        port: config.port,
        cache: config.cache,
        database: redactUrl(config.database),
        tokenserver: tokenserver
          ? `${serverConfig.publicUrl ?? `http://${config.host}:${config.port}`}/1.0/sync/1.5`
          : 'off',
      },
      'listening',
    );

    stopOnSignals(logger, async () => {
      await app.close();
      await operator.close();
      await tokenserver?.close();
      await storage.close();
    });
  });
}

/** Re-exported for the commands that log a database URL. */
export { redactUrl };

/** The options `token` needs to mint for this server: data folder, and host/port when not the defaults. */
function tokenHintOptions(config: ServeConfig): string {
  const parts = [`--data-dir ${config.dataDir}`];
  if (config.publicUrl === null) {
    if (config.host !== '127.0.0.1') parts.push(`--host ${config.host}`);
    if (config.port !== 8000) parts.push(`--port ${config.port}`);
  } else {
    parts.push(`--public-url ${config.publicUrl}`);
  }
  return parts.join(' ');
}

/** The server layer's validation, its errors in the user's option names. */
function resolveServerConfigFor(input: ServerConfigInput) {
  try {
    return resolveServerConfig(input);
  } catch (error) {
    throw error instanceof ConfigError ? inOptionNames(error) : error;
  }
}

/** How this binary was started, so the hint works from a checkout (`node dist/cli/main.js`) too. */
export function invocation(): string {
  const script = process.argv[1] ?? '';
  if (/[/\\]syncstorage$/.test(script)) return 'syncstorage';
  const relative = relativePath(process.cwd(), script);
  const path = relative.startsWith('..') ? script : relative;
  return path.endsWith('.ts') ? `npx tsx ${path}` : `node ${path}`;
}
