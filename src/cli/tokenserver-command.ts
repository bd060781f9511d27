/**
 * `syncstorage tokenserver`: the token server alone, for many storage
 * nodes (each runs `serve --tokenserver-enabled false` with the same master
 * secret). Nodes are managed with `syncstorage nodes`, or on the admin
 * listener (`--admin-listen`, as `serve`'s: metrics, nodes, users).
 */
import type { Command } from 'commander';
import { ServerMetrics } from '../admin/metrics/server-metrics.js';
import { tokenServerAdmin } from '../admin/token-server-store-admin.js';
import { createLogger } from '../server/logging/logger.js';
import { buildTokenserverApp } from '../tokenserver/tokenserver-app.js';
import { addTableOptions, commandConfig } from './command-options.js';
import { loadOrCreateMasterSecret } from './config/master-secret.js';
import { TOKENSERVER_OPTIONS } from './config/option-table.js';
import { stopOnSignals } from './graceful-shutdown.js';
import { startOperatorSide } from './admin-listener.js';
import { listenOnPublicPort } from './listen-startup-error.js';
import { startUp } from './startup-cleanup.js';
import { openTokenserver } from './open-tokenserver.js';
import { DATA_DIR_OPTION, ensurePrivateFolder } from './open-storage.js';
import { redactUrl } from './serve-command.js';

const HELP = `
The token server's database defaults to --database (sqlite:<data-dir>/syncstorage.db);
--tokenserver-database names another. Its master secret must be the one every
storage node uses (--master-secret, SYNC_MASTER_SECRET, or <data-dir>/master-secret).
Add nodes with \`syncstorage nodes add <url>\`, or --init-node-url at start.
The admin listener (--admin-listen, default 127.0.0.1:8001) serves /metrics
and the admin page's nodes and users; --admin-listen off turns it off.`;

export const TOKENSERVER_COMMAND_OPTIONS = [
  'host',
  'port',
  'masterSecret',
  'database',
  'dataDir',
  'retryAfterSeconds',
  'logLevel',
  'adminListen',
  'adminToken',
  ...TOKENSERVER_OPTIONS.map((spec) => spec.name).filter((name) => name !== 'tokenserverEnabled'),
];

export function registerTokenserverCommand(program: Command, version: string): void {
  const command = program
    .command('tokenserver')
    .description('run the token server alone (GET /1.0/sync/1.5), for many storage nodes')
    .addHelpText('after', HELP);
  addTableOptions(command, TOKENSERVER_COMMAND_OPTIONS).action(
    async (flags: Record<string, unknown>) => {
      const config = commandConfig(flags);
      if (config.masterSecret === null) ensurePrivateFolder(config.dataDir, DATA_DIR_OPTION);
      const masterSecret = config.masterSecret ?? loadOrCreateMasterSecret(config.dataDir).secret;
      const logger = createLogger({ level: config.logLevel, buffered: true });
      const metrics = new ServerMetrics();
      const { tokenserver, app, operator } = await startUp(async (opened) => {
        const tokenserver = await openTokenserver({
          config,
          masterSecret,
          logger,
          observer: metrics,
        });
        opened(() => tokenserver.close());
        const app = buildTokenserverApp({ tokenserver, logger, version, observer: metrics });
        opened(() => app.close());
        await listenOnPublicPort(app, config);
        // The admin listener explains its own failures (--admin-listen).
        const operator = await startOperatorSide({
          config,
          tokenServer: tokenServerAdmin(tokenserver.store),
          metrics,
          logger,
        });
        return { tokenserver, app, operator };
      });
      const nodes = await tokenserver.store.listNodes();
      logger.info(
        {
          host: config.host,
          port: config.port,
          database: redactUrl(config.tokenserver.database),
          nodes: nodes.length,
        },
        'token server listening',
      );
      if (nodes.length === 0) {
        logger.warn('no storage node yet: add one with `syncstorage nodes add <url>`');
      }
      stopOnSignals(logger, async () => {
        await app.close();
        await operator.close();
        await tokenserver.close();
      });
    },
  );
}
