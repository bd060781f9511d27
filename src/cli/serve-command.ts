/**
 * `syncstorage serve`: load and validate the configuration, open storage,
 * listen, and shut down gracefully on SIGTERM/SIGINT (stop accepting, finish
 * requests in flight, close storage and cache).
 */
import { relative as relativePath } from 'node:path';
import type { Command } from 'commander';
import { buildApp } from '../server/app.js';
import { resolveServerConfig } from '../server/config/server-config.js';
import { createLogger } from '../server/logging/logger.js';
import { addTableOptions, configFile } from './command-options.js';
import { loadServeConfig } from './config/load-config.js';
import { loadOrCreateMasterSecret } from './config/master-secret.js';
import { openDriver, openServeStorage } from './open-storage.js';
import { openTokenserver } from './open-tokenserver.js';
import { stopOnSignals } from './graceful-shutdown.js';

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
    const config = loadServeConfig({
      flags,
      env: process.env,
      file: configFile(flags, process.env),
    });
    let masterSecret = config.masterSecret;
    if (masterSecret === null) {
      const stored = loadOrCreateMasterSecret(config.dataDir);
      masterSecret = stored.secret;
      if (stored.created) {
        // On the terminal only, never in the JSON logs.
        process.stderr.write(
          `Generated a master secret in ${stored.path} (keep it private):\n  ${stored.secret}\n` +
            `Share it with your token server as SYNC_MASTER_SECRET, or mint a token for uid 1 with:\n` +
            `  ${invocation()} token --uid 1 --data-dir ${config.dataDir}\n`,
        );
      }
    }
    const serverConfig = resolveServerConfig({
      masterSecret,
      limits: config.limits,
      quotaBytes: config.quotaBytes,
      skewSeconds: config.skewSeconds,
      trustProxy: config.trustProxy,
      publicUrl: config.publicUrl,
      retryAfterSeconds: config.retryAfterSeconds,
      version,
    });
    const logger = createLogger({ level: config.logLevel, buffered: true });
    if (
      config.tokenserver.enabled &&
      !serverConfig.publicUrl &&
      /^(0\.0\.0\.0|::|\[::\])$/.test(config.host)
    ) {
      logger.warn(
        `tokens will name http://${config.host}:${config.port} as the storage node: set --public-url to the URL clients reach`,
      );
    }
    const driver = await openDriver(config.database);
    const storage = await openServeStorage(config, logger, driver);
    const tokenserver = config.tokenserver.enabled
      ? await openTokenserver({
          config,
          masterSecret,
          storageDriver: driver,
          // Tokens name this node; it must be the URL clients reach (with its path).
          defaultNode: serverConfig.publicUrl ?? `http://${config.host}:${config.port}`,
          logger,
        }).catch(async (error: unknown) => {
          await storage.close();
          throw error;
        })
      : undefined;
    const app = buildApp({ storage, config: serverConfig, logger, tokenserver });
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (error) {
      await tokenserver?.close();
      await storage.close();
      throw error;
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
      await tokenserver?.close();
      await storage.close();
    });
  });
}

/** A database URL without its password, for the log. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

/** How this binary was started, so the hint works from a checkout (`node dist/cli/main.js`) too. */
export function invocation(): string {
  const script = process.argv[1] ?? '';
  if (/[/\\]syncstorage$/.test(script)) return 'syncstorage';
  const relative = relativePath(process.cwd(), script);
  const path = relative.startsWith('..') ? script : relative;
  return path.endsWith('.ts') ? `npx tsx ${path}` : `node ${path}`;
}
