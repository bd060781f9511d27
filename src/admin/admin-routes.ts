/**
 * The admin listener's JSON endpoints: the ones the admin page and the CLI
 * (`syncstorage users … --admin-url`) call. Every action (delete, quota,
 * retire, node change, purge) is logged with what it did. A process runs
 * storage, the token server, or both; the endpoints of what it does not run
 * answer 404.
 *
 *   GET    /api/overview            totals, the last hour, purge status, what runs here
 *   GET    /api/users               ?search=&order=bytes|userid&limit=&offset=
 *                                   (search: uid digits; with the token server, also
 *                                   the start of an FxA uid or email)
 *   GET    /api/users/:uid          collections with counts, sizes and last modified;
 *                                   quota; last sync; the token server's record
 *   DELETE /api/users/:uid/data     delete everything the user stores
 *   PUT    /api/users/:uid/quota    {"bytes": n | null}
 *   POST   /api/users/:uid/retire   (token server) retire the user
 *   GET    /api/nodes, PATCH /api/nodes/:id   (token server)
 *   GET    /api/purge, POST /api/purge
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StorageInputError } from '../storage/errors.js';
import type { StorageDirectory, UserUsage } from '../storage/storage-directory.js';
import type { SyncStorage } from '../storage/sync-storage.js';
import type { RecentHistory } from './metrics/recent-history.js';
import type { ServerMetrics } from './metrics/server-metrics.js';
import type { PurgeScheduler } from './purge-scheduler.js';
import type { NodeChange, TokenServerAdmin, TokenServerUser } from './token-server-admin.js';

/** The storage side of a process (absent in a token-server-only one). */
export interface AdminStorage {
  storage: SyncStorage;
  directory: StorageDirectory;
  purge: PurgeScheduler;
  /** The global quota in bytes, or null when quotas are off. */
  globalQuotaBytes: number | null;
}

export interface AdminRouteDeps {
  metrics: ServerMetrics;
  history: RecentHistory;
  storage?: AdminStorage;
  tokenServer?: TokenServerAdmin;
}

/**
 * A row of `GET /api/users`: the storage usage (when storage runs here) and,
 * when the user was found through the token server, its record.
 */
export type UserListEntry = Partial<UserUsage> & {
  userId: number;
  tokenServer?: TokenServerUser;
};

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

/** Digits search storage's uids; anything else the token server's emails (`<fxa uid>@<domain>`). */
const UID_SEARCH = /^\d{0,20}$/;
const ACCOUNT_SEARCH = /^[a-z0-9@.+_-]{1,255}$/i;

export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  const { tokenServer } = deps;

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

  const needStorage = (): AdminStorage => {
    if (!deps.storage) throw new AdminError(404, 'this process runs the token server only');
    return deps.storage;
  };
  const needTokenServer = (): TokenServerAdmin => {
    if (!tokenServer) throw new AdminError(404, 'the token server is not enabled in this process');
    return tokenServer;
  };

  app.get('/api/overview', async () => ({
    totals: deps.storage ? await deps.metrics.totals() : null,
    history: deps.history.points(),
    purge: deps.storage ? deps.storage.purge.status() : null,
    globalQuotaBytes: deps.storage ? deps.storage.globalQuotaBytes : null,
    storage: deps.storage !== undefined,
    tokenServer: tokenServer !== undefined,
  }));

  app.get('/api/users', async (request): Promise<{ users: UserListEntry[] }> => {
    const query = request.query as Record<string, string | undefined>;
    const search = (query.search ?? '').trim();
    const limit = intQuery(query, 'limit');
    if (deps.storage && (UID_SEARCH.test(search) || !tokenServer)) {
      const users: UserListEntry[] = await deps.storage.directory.listUsers({
        search,
        order: query.order === 'userid' ? 'userid' : 'bytes',
        limit,
        offset: intQuery(query, 'offset'),
      });
      if (!tokenServer || users.length === 0) return { users };
      // Who each one is, in one query.
      const records = await tokenServer.getUsers(users.map((u) => u.userId));
      const byUid = new Map(records.map((r) => [r.uid, r]));
      return {
        users: users.map((user) => {
          const record = byUid.get(user.userId);
          return record ? { ...user, tokenServer: record } : user;
        }),
      };
    }
    const accounts = needTokenServer();
    if (search !== '' && !ACCOUNT_SEARCH.test(search)) {
      throw new AdminError(400, 'search by uid digits, or the start of an FxA uid or email');
    }
    const records = await accounts.findUsers(search, Math.min(Math.max(limit ?? 50, 1), 1000));
    const usage = new Map<number, UserUsage>();
    if (deps.storage && records.length > 0) {
      const userIds = records.map((r) => r.uid);
      const found = await deps.storage.directory.listUsers({ userIds, limit: userIds.length });
      for (const user of found) usage.set(user.userId, user);
    }
    const none = { bytes: 0, items: 0, collections: 0, lastModified: 0, quotaBytes: null };
    return {
      users: records.map((record) => ({
        ...(deps.storage ? (usage.get(record.uid) ?? none) : {}),
        userId: record.uid,
        tokenServer: record,
      })),
    };
  });

  app.get('/api/users/:uid', async (request) => {
    const uid = uidParam(request);
    const account = tokenServer ? ((await tokenServer.getUser(uid)) ?? null) : undefined;
    if (!deps.storage) {
      if (!account) throw new AdminError(404, `no token-server user has uid ${uid}`);
      return { userId: uid, tokenServer: account };
    }
    const { storage, globalQuotaBytes } = deps.storage;
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
      // The storage timestamp: the last write by any device, deletions
      // included (a sync that only reads leaves no trace); 0 for none yet.
      lastSync: timestamps.storage,
      quotaBytes,
      effectiveQuotaBytes: globalQuotaBytes === null ? null : (quotaBytes ?? globalQuotaBytes),
      collections,
      ...(account !== undefined && { tokenServer: account }),
    };
  });

  app.delete('/api/users/:uid/data', async (request) => {
    const uid = uidParam(request);
    const { storage } = needStorage();
    const before = await storage.getTotalSize(uid, true);
    await storage.deleteStorage(uid);
    request.log.info({ action: 'delete-user-data', uid, bytes: before }, 'admin action');
    return { userId: uid, deleted: true, bytes: before };
  });

  app.put('/api/users/:uid/quota', async (request) => {
    const uid = uidParam(request);
    const { storage } = needStorage();
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

  app.post('/api/users/:uid/retire', async (request) => {
    const uid = uidParam(request);
    const retired = await needTokenServer().retireUser(uid);
    if (!retired) throw new AdminError(404, `no live token-server user has uid ${uid}`);
    request.log.info({ action: 'retire-user', uid }, 'admin action');
    return { userId: uid, retired };
  });

  app.get('/api/nodes', async () => ({ nodes: await needTokenServer().listNodes() }));

  app.patch('/api/nodes/:id', async (request) => {
    const raw = (request.params as { id?: string }).id ?? '';
    const id = Number(raw);
    if (!/^\d{1,15}$/.test(raw) || id <= 0) throw new AdminError(400, 'invalid node id');
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
    if (!node) throw new AdminError(404, `no node ${id}`);
    request.log.info({ action: 'update-node', id, node: node.node, change }, 'admin action');
    return node;
  });

  app.get('/api/purge', async () => needStorage().purge.status());

  app.post('/api/purge', async (request) => {
    const { purge } = needStorage();
    request.log.info({ action: 'purge' }, 'admin action');
    const result = await purge.runNow();
    return { result, status: purge.status() };
  });
}
