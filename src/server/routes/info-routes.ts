/**
 * `/1.5/{uid}/info/*` (API.md "Paths"): maps over the user's collections,
 * the quota, and the server's limits. Each honours X-If-Modified-Since
 * against the storage timestamp.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { limitsToWire } from '../config/server-config.js';
import { checkRead, parsePreconditions } from '../http/preconditions.js';
import { sendJson, setLastModified, wireSeconds } from '../http/wire-format.js';
import { userId, type RouteContext } from './route-context.js';

type Reader = (uid: number) => Promise<unknown>;

export function registerInfoRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { storage, config } = ctx;

  /** Common shape: preconditions on the storage timestamp, then the body. */
  function infoRoute(path: string, read: Reader, countRecords = true): void {
    app.get(path, async (request: FastifyRequest, reply: FastifyReply) => {
      const uid = userId(request);
      const pre = parsePreconditions(request.headers);
      const storageMs = await storage.getStorageTimestamp(uid);
      setLastModified(request, reply, storageMs);
      if (checkRead(pre, storageMs) === 'not-modified') return reply.code(304).send();
      const body = await read(uid);
      if (countRecords && typeof body === 'object' && body !== null) {
        reply.header('X-Weave-Records', String(Object.keys(body).length));
      }
      return sendJson(reply, body);
    });
  }

  infoRoute('/info/collections', async (uid) =>
    mapValues(await storage.getCollectionTimestamps(uid), wireSeconds),
  );
  infoRoute('/info/collection_counts', (uid) => storage.getCollectionCounts(uid));
  infoRoute('/info/collection_usage', async (uid) =>
    mapValues(await storage.getCollectionSizes(uid), (bytes) => bytes / 1024),
  );
  infoRoute(
    '/info/quota',
    async (uid) => {
      const used = await storage.getTotalSize(uid);
      return [used / 1024, config.quotaBytes === null ? null : config.quotaBytes / 1024];
    },
    false,
  );
  infoRoute('/info/configuration', async () => limitsToWire(config.limits), false);
}

function mapValues(
  record: Record<string, number>,
  fn: (value: number) => number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(record)) out[key] = fn(value);
  return out;
}
