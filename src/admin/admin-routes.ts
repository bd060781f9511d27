/**
 * The admin listener's JSON endpoints: the ones the admin page and the CLI
 * (`syncstorage users … --admin-url`) call. Every action (delete, quota,
 * retire, node change, purge) is logged with what it did.
 *
 *   GET    /api/overview            totals, the last hour, purge status
 *   GET    /api/users               ?search=&order=bytes|userid&limit=&offset=
 *   GET    /api/users/:uid          collections with counts, sizes, last modified; quota
 *   DELETE /api/users/:uid/data     delete everything the user stores
 *   PUT    /api/users/:uid/quota    {"bytes": n | null}
 *   POST   /api/users/:uid/retire   (token server) retire the user
 *   GET    /api/nodes, PATCH /api/nodes/:id   (token server)
 *   GET    /api/purge, POST /api/purge
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StorageInputError } from '../storage/errors.js';
import type { StorageDirectory } from '../storage/storage-directory.js';
import type { SyncStorage } from '../storage/sync-storage.js';
import type { RecentHistory } from './metrics/recent-history.js';
import type { ServerMetrics } from './metrics/server-metrics.js';
import type { PurgeScheduler } from './purge-scheduler.js';
import type { NodeChange, TokenServerAdmin } from './token-server-admin.js';

export interface AdminRouteDeps {
  storage: SyncStorage;
  directory: StorageDirectory;
  metrics: ServerMetrics;
  history: RecentHistory;
  purge: PurgeScheduler;
  /** The global quota in bytes, or null when quotas are off. */
  globalQuotaBytes: number | null;
  tokenServer?: TokenServerAdmin;
}

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function uidParam(request: FastifyRequest): number {
  const { uid } = request.params as { uid?: string };
  const n = Number(uid);
  if (!/^\d{1,15}$/.test(uid ?? '') || !Number.isSafeInteger(n) || n <= 0) {
    throw new AdminError(400, `invalid user id ${JSON.stringify(uid)}`);
  }
  return n;
}

function intQuery(query: Record<string, string | undefined>, name: string): number | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw new AdminError(400, `invalid ${name}: expected an integer`);
  return Number(raw);
}

export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  const { storage, directory, tokenServer } = deps;

  app.setErrorHandler(async (error, request, reply: FastifyReply) => {
    const status =
      error instanceof AdminError
        ? error.status
        : error instanceof StorageInputError
          ? 400
          : ((error as { statusCode?: number }).statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error }, 'admin request failed');
    return reply.code(status).send({
      error: status >= 500 ? 'internal' : 'bad_request',
      message: status >= 500 ? 'internal error (see the server log)' : (error as Error).message,
    });
  });

  app.get('/api/overview', async () => ({
    totals: await deps.metrics.totals(),
    history: deps.history.points(),
    purge: deps.purge.status(),
    globalQuotaBytes: deps.globalQuotaBytes,
    tokenServer: tokenServer !== undefined,
  }));

  app.get('/api/users', async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const order = query.order === 'userid' ? 'userid' : 'bytes';
    const users = await directory.listUsers({
      search: query.search ?? '',
      order,
      limit: intQuery(query, 'limit'),
      offset: intQuery(query, 'offset'),
    });
    return { users };
  });

  app.get('/api/users/:uid', async (request) => {
    const uid = uidParam(request);
    const [timestamps, counts, sizes, quotaBytes, bytes] = await Promise.all([
      storage.getTimestamps(uid),
      storage.getCollectionCounts(uid),
      storage.getCollectionSizes(uid),
      storage.getUserQuota(uid),
      storage.getTotalSize(uid, true),
    ]);
    const names = new Set([...Object.keys(timestamps.collections), ...Object.keys(counts)]);
    const collections = [...names].sort().map((name) => ({
      name,
      count: counts[name] ?? 0,
      bytes: sizes[name] ?? 0,
      lastModified: timestamps.collections[name] ?? 0,
    }));
    return {
      userId: uid,
      bytes,
      items: collections.reduce((n, c) => n + c.count, 0),
      lastModified: timestamps.storage,
      quotaBytes,
      effectiveQuotaBytes:
        deps.globalQuotaBytes === null ? null : (quotaBytes ?? deps.globalQuotaBytes),
      collections,
    };
  });

  app.delete('/api/users/:uid/data', async (request) => {
    const uid = uidParam(request);
    const before = await storage.getTotalSize(uid, true);
    await storage.deleteStorage(uid);
    request.log.info({ action: 'delete-user-data', uid, bytes: before }, 'admin action');
    return { userId: uid, deleted: true, bytes: before };
  });

  app.put('/api/users/:uid/quota', async (request) => {
    const uid = uidParam(request);
    const body = request.body as { bytes?: unknown } | null;
    const bytes = body?.bytes;
    if (
      bytes !== null &&
      (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0)
    ) {
      throw new AdminError(400, 'body must be {"bytes": <integer ≥ 0> | null}');
    }
    await storage.setUserQuota(uid, bytes);
    request.log.info({ action: 'set-quota', uid, bytes }, 'admin action');
    return { userId: uid, quotaBytes: bytes };
  });

  const needTokenServer = (): TokenServerAdmin => {
    if (!tokenServer) throw new AdminError(404, 'the token server is not enabled in this process');
    return tokenServer;
  };

  app.post('/api/users/:uid/retire', async (request) => {
    const uid = uidParam(request);
    const retired = await needTokenServer().retireUser(uid);
    if (!retired) throw new AdminError(404, `no token-server user maps to uid ${uid}`);
    request.log.info({ action: 'retire-user', uid }, 'admin action');
    return { userId: uid, retired };
  });

  app.get('/api/nodes', async () => ({ nodes: await needTokenServer().listNodes() }));

  app.patch('/api/nodes/:id', async (request) => {
    const id = Number((request.params as { id?: string }).id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new AdminError(400, 'invalid node id');
    const body = (request.body ?? {}) as Record<string, unknown>;
    const change: NodeChange = {};
    for (const key of ['capacity', 'available'] as const) {
      const value = body[key];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new AdminError(400, `${key} must be an integer ≥ 0`);
      }
      change[key] = value;
    }
    for (const key of ['downed', 'backoff'] as const) {
      const value = body[key];
      if (value === undefined) continue;
      if (typeof value !== 'boolean') throw new AdminError(400, `${key} must be true or false`);
      change[key] = value;
    }
    const node = await needTokenServer().updateNode(id, change);
    request.log.info({ action: 'update-node', id, change }, 'admin action');
    return node;
  });

  app.get('/api/purge', async () => deps.purge.status());

  app.post('/api/purge', async (request) => {
    request.log.info({ action: 'purge' }, 'admin action');
    const result = await deps.purge.runNow();
    return { result, status: deps.purge.status() };
  });
}
