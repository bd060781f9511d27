/** GET, PUT and DELETE `/storage/{collection}/{id}` (API.md "Paths"). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkBso, COLLECTION_NAME, isValidBsoId } from '../../storage/bso-rules.js';
import { isStorageError } from '../errors/error-mapper.js';
import type { SyncStorage } from '../../storage/sync-storage.js';
import { toWire } from '../../storage/timestamps.js';
import { requireBody } from '../content/body-parsers.js';
import { negotiate } from '../content/negotiation.js';
import { HttpError } from '../errors/weave-errors.js';
import { checkRead, checkWrite, parsePreconditions } from '../http/preconditions.js';
import { refuseKnownBadPayloads } from '../http/known-bad-payload.js';
import { enforceQuota, quotaOf, reportQuota } from '../http/quota.js';
import {
  bsoToWire,
  sendJson,
  setLastModified,
  setWriteTimestamp,
  wireSeconds,
} from '../http/wire-format.js';
import { collectionParam, userId, type RouteContext } from './route-context.js';

function itemParam(request: FastifyRequest, onInvalid: 'BAD_REQUEST' | 'INVALID_BSO'): string {
  const { id } = request.params as { id?: string };
  if (!isValidBsoId(id)) throw new HttpError(onInvalid, 'invalid id');
  return id;
}

/** An item's timestamp, 0 when it does not exist (X-If-Unmodified-Since on a new item passes). */
async function itemTimestampOrZero(
  storage: SyncStorage,
  uid: number,
  collection: string,
  id: string,
): Promise<number> {
  try {
    return await storage.getItemTimestamp(uid, collection, id);
  } catch (error) {
    if (isStorageError(error, 'ITEM_NOT_FOUND') || isStorageError(error, 'COLLECTION_NOT_FOUND'))
      return 0;
    throw error;
  }
}

export function registerItemRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { storage, config } = ctx;
  const path = '/storage/:collection/:id';

  app.get(path, async (request: FastifyRequest, reply: FastifyReply) => {
    const uid = userId(request);
    const collection = collectionParam(request, COLLECTION_NAME);
    const id = itemParam(request, 'BAD_REQUEST');
    const pre = parsePreconditions(request.headers);
    negotiate(request.headers.accept, true);
    const bso = await storage.withReadLock(uid, collection, (tx) =>
      tx.getItem(uid, collection, id),
    );
    setLastModified(request, reply, bso.modified);
    if (checkRead(pre, bso.modified) === 'not-modified') return reply.code(304).send();
    return sendJson(reply, bsoToWire(bso));
  });

  app.put(path, async (request: FastifyRequest, reply: FastifyReply) => {
    const uid = userId(request);
    const collection = collectionParam(request, COLLECTION_NAME);
    const id = itemParam(request, 'INVALID_BSO');
    const pre = parsePreconditions(request.headers);
    const body = requireBody(request.body);
    // API.md: POST alone takes application/newlines.
    if (body.kind !== 'json') throw new HttpError('UNSUPPORTED_MEDIA_TYPE');
    const check = checkBso(body.value, {
      maxPayloadBytes: config.limits.maxRecordPayloadBytes,
      requireId: false,
    });
    if (!check.ok) throw new HttpError('INVALID_BSO', check.reason);
    if (check.bso.id !== '' && check.bso.id !== id) {
      throw new HttpError('INVALID_BSO', 'id in body differs from the URL');
    }
    refuseKnownBadPayloads(collection, [check.bso.payload]);
    const { id: _ignored, ...data } = check.bso;
    const modified = await storage.withWriteLock(uid, collection, async (tx) => {
      checkWrite(pre, await itemTimestampOrZero(tx, uid, collection, id));
      const quota = await quotaOf(tx, config.quotaBytes, uid);
      await enforceQuota(tx, quota, uid);
      const result = await tx.setItem(uid, collection, id, data);
      await reportQuota(tx, quota, uid, reply);
      return result.modified;
    });
    setWriteTimestamp(request, reply, modified);
    // API 1.5: the body of a PUT is the new timestamp.
    return reply.type('application/json').send(toWire(modified));
  });

  app.delete(path, async (request: FastifyRequest, reply: FastifyReply) => {
    const uid = userId(request);
    const collection = collectionParam(request, COLLECTION_NAME);
    const id = itemParam(request, 'BAD_REQUEST');
    const pre = parsePreconditions(request.headers);
    const modified = await storage.withWriteLock(uid, collection, async (tx) => {
      checkWrite(pre, await itemTimestampOrZero(tx, uid, collection, id));
      return tx.deleteItem(uid, collection, id);
    });
    setWriteTimestamp(request, reply, modified);
    return sendJson(reply, { modified: wireSeconds(modified) });
  });
}
