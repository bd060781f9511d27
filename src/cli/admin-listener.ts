/**
 * The operator's side of `serve` and `tokenserver`: the metrics every layer
 * reports to, the purge schedule and the last hour's history (with
 * storage), and the admin listener on `--admin-listen` with its token
 * (generated once into the data folder and printed once, on the terminal
 * only). A token-server-only process gets the listener with metrics, the
 * nodes and the token server's users.
 */
import type { Logger } from 'pino';
import { buildAdminApp } from '../admin/admin-app.js';
import type { AdminStorage } from '../admin/admin-routes.js';
import { MemcachedProbe } from '../admin/memcached-probe.js';
import { RecentHistory } from '../admin/metrics/recent-history.js';
import { ServerMetrics } from '../admin/metrics/server-metrics.js';
import { PurgeScheduler } from '../admin/purge-scheduler.js';
import type { TokenServerAdmin } from '../admin/token-server-admin.js';
import type { StorageDirectory } from '../storage/storage-directory.js';
import type { SyncStorage } from '../storage/sync-storage.js';
import { loadOrCreateAdminToken } from './config/admin-token.js';
import { CliConfigError, type ServeConfig } from './config/load-config.js';

export function createServerMetrics(
  config: ServeConfig,
  directory: () => StorageDirectory | undefined,
): { metrics: ServerMetrics; probe: MemcachedProbe | undefined } {
  const probe = config.memcached.length > 0 ? new MemcachedProbe(config.memcached) : undefined;
  const metrics = new ServerMetrics({
    totals: async () => {
      const source = directory();
      return source ? source.usageTotals() : { users: 0, items: 0, bytes: 0 };
    },
    ...(probe && { memcached: { servers: probe.servers, probe: probe.probe } }),
  });
  return { metrics, probe };
}

export interface OperatorSide {
  close(): Promise<void>;
}

export async function startOperatorSide(options: {
  config: ServeConfig;
  /** The storage this process serves; none for a token-server-only process. */
  storage?: { storage: SyncStorage; directory: StorageDirectory };
  /** The token server's users and nodes, when it runs in this process. */
  tokenServer?: TokenServerAdmin;
  metrics: ServerMetrics;
  probe?: MemcachedProbe;
  logger: Logger;
}): Promise<OperatorSide> {
  const { config, metrics, logger } = options;
  let storageSide: AdminStorage | undefined;
  if (options.storage) {
    const { storage, directory } = options.storage;
    const purgeLog = logger.child({ component: 'purge' });
    const purge = new PurgeScheduler({
      storage,
      intervalSeconds: config.purgeIntervalSeconds,
      observer: metrics,
      log: {
        info: (fields, message) => purgeLog.info(fields, message),
        error: (fields, message) => purgeLog.error(fields, message),
      },
    });
    purge.start();
    storageSide = { storage, directory, purge, globalQuotaBytes: config.quotaBytes };
  }
  const history = new RecentHistory(metrics);
  history.start();
  const stop = async () => {
    history.stop();
    await storageSide?.purge.stop();
  };
  let admin: ReturnType<typeof buildAdminApp> | undefined;
  if (config.adminListen) {
    let token = config.adminToken;
    if (token === null) {
      const stored = loadOrCreateAdminToken(config.dataDir);
      token = stored.secret;
      if (stored.created) {
        const { host, port } = config.adminListen;
        // On the terminal only, never in the JSON logs.
        process.stderr.write(
          `Generated an admin token in ${stored.path} (keep it private):\n  ${token}\n` +
            `Admin page: http://${host.includes(':') ? `[${host}]` : host}:${port}/#token=${token}\n`,
        );
      }
    }
    admin = buildAdminApp({
      token,
      metrics,
      history,
      ...(storageSide && { storage: storageSide }),
      ...(options.tokenServer && { tokenServer: options.tokenServer }),
      logger: logger.child({ component: 'admin' }),
    });
    try {
      await admin.listen(config.adminListen);
    } catch (error) {
      await stop();
      const { host, port } = config.adminListen;
      throw new CliConfigError(
        `cannot listen on --admin-listen ${host}:${port} (SYNC_ADMIN_LISTEN): ${(error as Error).message}; choose another host:port, or off`,
      );
    }
    logger.info({ ...config.adminListen }, 'admin listener up');
  }
  return {
    async close() {
      await stop();
      await admin?.close();
      await options.probe?.close();
    },
  };
}
