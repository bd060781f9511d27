/**
 * `/1.5/{uid}/info/*` (API.md "Paths"): maps over the user's collections,
 * the quota, and the server's limits. Each honours X-If-Modified-Since
 * against the storage timestamp.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { limitsToWire } from '../config/server-config.js';
import { checkRead, parsePreconditions } from '../http/preconditions.js';
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

  /** Common shape: preconditions on the storage timestamp, then the body. */
  function infoRoute(path: string, read: Reader): void {
    app.get(path, async (request: FastifyRequest, reply: FastifyReply) => {
      const uid = userId(request);
      const pre = parsePreconditions(request.headers);
      const storageMs = await storage.getStorageTimestamp(uid);
      setLastModified(request, reply, storageMs);
      if (checkRead(pre, storageMs) === 'not-modified') return reply.code(304).send();
      const body = await read(uid);
      if (body.records !== null) reply.header('X-Weave-Records', String(body.records));
      return reply.type('application/json').send(body.json);
    });
  }

  // The storage timestamp stays a read of its own: it also covers deleted
  // collections (their tombstone), which the collection map no longer shows,
  // so the maximum of the map could go backwards and answer a wrong 304.
  // The body is written straight to JSON: this is the request clients make
  // most (every sync starts with it).
  infoRoute('/info/collections', async (uid) => {
    const timestamps = await storage.getCollectionTimestamps(uid);
    let json = '{';
    let records = 0;
    for (const name of Object.keys(timestamps)) {
      json += `${records === 0 ? '' : ','}${JSON.stringify(name)}:${wireSeconds(timestamps[name]!)}`;
      records += 1;
    }
    return { json: `${json}}`, records };
  });
  infoRoute('/info/collection_counts', async (uid) =>
    mapBody(await storage.getCollectionCounts(uid)),
  );
  infoRoute('/info/collection_usage', async (uid) =>
    mapBody(mapValues(await storage.getCollectionSizes(uid), (bytes) => bytes / 1024)),
  );
  infoRoute('/info/quota', async (uid) => {
    const used = await storage.getTotalSize(uid);
    const quota = config.quotaBytes === null ? null : config.quotaBytes / 1024;
    return { json: JSON.stringify([used / 1024, quota]), records: null };
  });
  const configuration = JSON.stringify(limitsToWire(config.limits));
  infoRoute('/info/configuration', async () => ({ json: configuration, records: null }));
}

function mapValues(
  record: Record<string, number>,
  fn: (value: number) => number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(record)) out[key] = fn(value);
  return out;
}
