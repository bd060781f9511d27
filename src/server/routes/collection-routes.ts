/**
 * GET and DELETE `/storage/{collection}`, and DELETE of the whole storage
 * (`/1.5/{uid}` and `/1.5/{uid}/storage`). POST lives in post-routes.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { COLLECTION_NAME } from '../../storage/bso-rules.js';
import { isStorageError } from '../errors/error-mapper.js';
import type { SyncStorage } from '../../storage/sync-storage.js';
import { nowMs } from '../../storage/timestamps.js';
import { negotiate } from '../content/negotiation.js';
import { toNewlines } from '../content/newlines.js';
import { checkRead, checkWrite, parsePreconditions } from '../http/preconditions.js';
import { parseIds, parseListQuery, type Query } from '../http/query-params.js';
import {
  bsoToWire,
  sendJson,
  setLastModified,
  setWriteTimestamp,
  wireSeconds,
} from '../http/wire-format.js';
import { collectionParam, userId, type RouteContext } from './route-context.js';

/** A collection's timestamp, 0 when it does not exist (API.md: a missing collection lists as []). */
export async function collectionTimestampOrZero(
  storage: SyncStorage,
  uid: number,
  collection: string,
): Promise<number> {
  try {
    return await storage.getCollectionTimestamp(uid, collection);
  } catch (error) {
    if (isStorageError(error, 'COLLECTION_NOT_FOUND')) return 0;
    throw error;
  }
}

export function registerCollectionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { storage, clock } = ctx;

  app.get('/storage/:collection', async (request: FastifyRequest, reply: FastifyReply) => {
    const uid = userId(request);
    const collection = collectionParam(request, COLLECTION_NAME);
    const query = parseListQuery(request.query as Query);
    const pre = parsePreconditions(request.headers);
    const format = negotiate(request.headers.accept, true);
    const { full, ...find } = query;
    const result = await storage.withReadLock(uid, collection, async (tx) => {
      const modified = await collectionTimestampOrZero(tx, uid, collection);
      if (checkRead(pre, modified) === 'not-modified') return { modified, page: undefined };
      if (modified === 0) return { modified, page: { items: [], nextOffset: null } };
      const page = full
        ? await tx.getItems(uid, collection, find).then((r) => ({
            items: r.items.map(bsoToWire),
            nextOffset: r.nextOffset,
          }))
        : await tx.getItemIds(uid, collection, find);
      return { modified, page };
    });
    setLastModified(request, reply, result.modified);
    if (!result.page) return reply.code(304).send();
    const { items, nextOffset } = result.page as { items: unknown[]; nextOffset: string | null };
    reply.header('X-Weave-Records', String(items.length));
    if (nextOffset !== null) reply.header('X-Weave-Next-Offset', nextOffset);
    if (format === 'newlines') {
      return reply.type('application/newlines').send(toNewlines(items));
    }
    return sendJson(reply, items);
  });

  app.delete('/storage/:collection', async (request: FastifyRequest, reply: FastifyReply) => {
    const uid = userId(request);
    const collection = collectionParam(request, COLLECTION_NAME);
    const ids = parseIds(request.query as Query);
    const pre = parsePreconditions(request.headers);
    const modified = await storage.withWriteLock(uid, collection, async (tx) => {
      checkWrite(pre, await collectionTimestampOrZero(tx, uid, collection));
      try {
        return ids === undefined
          ? await tx.deleteCollection(uid, collection)
          : await tx.deleteItems(uid, collection, ids);
      } catch (error) {
        // Deleting what is not there succeeds (as syncstorage-rs): the
        // client's goal, "no such collection", holds.
        if (isStorageError(error, 'COLLECTION_NOT_FOUND')) return tx.getStorageTimestamp(uid);
        throw error;
      }
    });
    setWriteTimestamp(request, reply, modified);
    return sendJson(reply, { modified: wireSeconds(modified) });
  });

  async function deleteAll(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const uid = userId(request);
    const pre = parsePreconditions(request.headers);
    checkWrite(pre, await storage.getStorageTimestamp(uid));
    await storage.deleteStorage(uid);
    const now = nowMs(clock);
    setLastModified(request, reply, now);
    return sendJson(reply, {});
  }
  app.delete('/storage', deleteAll);
  app.delete('/', deleteAll);
}
