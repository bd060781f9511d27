/**
 * `/1.5/{uid}/info/*` (API.md "Paths"): maps over the user's collections,
 * the quota, and the server's limits. Each honours X-If-Modified-Since
 * against the storage timestamp.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { limitsToWire } from '../config/server-config.js';
import { checkRead, parsePreconditions } from '../http/preconditions.js';
import { quotaOf } from '../http/quota.js';
import { setLastModified, wireSeconds } from '../http/wire-format.js';
import { userId, type RouteContext } from './route-context.js';

/** A response body already serialized, and its X-Weave-Records count (null: no header). */
interface InfoBody {
  json: string;
  records: number | null;
}

type Reader = (uid: number) => Promise<InfoBody>;

/** A map body through JSON.stringify, counting its keys. */
function mapBody(record: Record<string, number>): InfoBody {
  return { json: JSON.stringify(record), records: Object.keys(record).length };
}

export function registerInfoRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { storage, config } = ctx;

  /** Sets X-Last-Modified; true when X-If-Modified-Since makes the answer a 304. */
  function notModified(request: FastifyRequest, reply: FastifyReply, storageMs: number): boolean {
    setLastModified(request, reply, storageMs);
    return checkRead(parsePreconditions(request.headers), storageMs) === 'not-modified';
  }

  function send(reply: FastifyReply, { json, records }: InfoBody): FastifyReply {
    if (records !== null) reply.header('X-Weave-Records', String(records));
    return reply.type('application/json').send(json);
  }

  /** A map route: the storage timestamp first, the body only when it is needed. */
  function infoRoute(path: string, read: Reader): void {
    app.get(path, async (request: FastifyRequest, reply: FastifyReply) => {
      const uid = userId(request);
      const storageMs = await storage.getStorageTimestamp(uid);
      if (notModified(request, reply, storageMs)) return reply.code(304).send();
      return send(reply, await read(uid));
    });
  }

  // The request clients make most (every sync starts with it): both
  // timestamps from one read, which is also one snapshot, and the body
  // written straight to JSON.
  const collectionsRoute = { config: { allowExpiredToken: true } };
  app.get('/info/collections', collectionsRoute, async (request, reply) => {
    const { storage: storageMs, collections } = await storage.getTimestamps(userId(request));
    if (notModified(request, reply, storageMs)) return reply.code(304).send();
    return send(reply, collectionsBody(collections));
  });
  infoRoute('/info/collection_counts', async (uid) =>
    mapBody(await storage.getCollectionCounts(uid)),
  );
  infoRoute('/info/collection_usage', async (uid) =>
    mapBody(mapValues(await storage.getCollectionSizes(uid), (bytes) => bytes / 1024)),
  );
  infoRoute('/info/quota', async (uid) => {
    const used = await storage.getTotalSize(uid);
    const quotaBytes = await quotaOf(storage, config.quotaBytes, uid);
    const quota = quotaBytes === null ? null : quotaBytes / 1024;
    return { json: JSON.stringify([used / 1024, quota]), records: null };
  });
  const configuration = JSON.stringify(limitsToWire(config.limits));
  infoRoute('/info/configuration', async () => ({ json: configuration, records: null }));
}

/** `{"name":seconds,…}` without building an intermediate object. */
function collectionsBody(timestamps: Record<string, number>): InfoBody {
  let json = '{';
  let records = 0;
  for (const name of Object.keys(timestamps)) {
    json += `${records === 0 ? '' : ','}${JSON.stringify(name)}:${wireSeconds(timestamps[name]!)}`;
    records += 1;
  }
  return { json: `${json}}`, records };
}

function mapValues(
  record: Record<string, number>,
  fn: (value: number) => number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(record)) out[key] = fn(value);
  return out;
}
