/**
 * POST `/storage/{collection}`, with batches (API.md "Batches"):
 *   no batch / batch=true&commit=true  → write now, 200 {modified, success, failed}
 *   batch=true                         → open a batch, 202 {batch, success, failed}
 *   batch=<id>                         → append, 202
 *   batch=<id>&commit=true             → append, apply atomically, 200
 * Everything runs inside the collection's write lock, X-If-Unmodified-Since included.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { COLLECTION_NAME } from '../../storage/bso-rules.js';
import { nowMs } from '../../storage/timestamps.js';
import { requireBody } from '../content/body-parsers.js';
import { HttpError } from '../errors/weave-errors.js';
import { refuseKnownBadPayloads } from '../http/known-bad-payload.js';
import { sortPostedItems } from '../http/post-items.js';
import { checkWrite, parsePreconditions } from '../http/preconditions.js';
import { single, type Query } from '../http/query-params.js';
import { enforceQuota, quotaOf, reportQuota } from '../http/quota.js';
import { checkSizeHeaders } from '../http/size-headers.js';
import { sendJson, setLastModified, setWriteTimestamp, wireSeconds } from '../http/wire-format.js';
import { collectionTimestampOrZero } from './collection-routes.js';
import { collectionParam, userId, type RouteContext } from './route-context.js';

type Mode =
  { kind: 'write' } | { kind: 'create' } | { kind: 'append'; batch: string; commit: boolean };

function postMode(query: Query): Mode {
  const batch = single(query, 'batch');
  const commit = single(query, 'commit');
  if (commit !== undefined && commit !== 'true') throw new HttpError('BAD_REQUEST', 'bad commit');
  if (batch === undefined) {
    if (commit !== undefined) throw new HttpError('BAD_REQUEST', 'commit without batch');
    return { kind: 'write' };
  }
  if (batch === 'true') return commit ? { kind: 'write' } : { kind: 'create' };
  if (batch === '' || batch.length > 128) throw new HttpError('INVALID_BATCH');
  return { kind: 'append', batch, commit: commit !== undefined };
}

export function registerPostRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { storage, config, clock } = ctx;

  app.post('/storage/:collection', async (request: FastifyRequest, reply: FastifyReply) => {
    const uid = userId(request);
    const collection = collectionParam(request, COLLECTION_NAME);
    const mode = postMode(request.query as Query);
    const pre = parsePreconditions(request.headers);
    checkSizeHeaders(request.headers, config.limits);
    const { valid, failed } = sortPostedItems(requireBody(request.body), config.limits);
    refuseKnownBadPayloads(
      collection,
      valid.map((item) => item.payload),
    );
    const success = valid.map((item) => item.id);

    const outcome = await storage.withWriteLock(uid, collection, async (tx) => {
      const current = await collectionTimestampOrZero(tx, uid, collection);
      checkWrite(pre, current);
      const quota = await quotaOf(tx, config.quotaBytes, uid);
      if (valid.length > 0) await enforceQuota(tx, quota, uid);
      let result: { modified: number } | { batch: string; current: number };
      if (mode.kind === 'write') {
        const modified =
          valid.length > 0
            ? await tx.setItems(uid, collection, valid)
            : Math.max(current, nowMs(clock));
        result = { modified };
      } else {
        let batch: string;
        if (mode.kind === 'create') {
          batch = await tx.createBatch(uid, collection);
        } else {
          batch = mode.batch;
          if (!(await tx.validBatch(uid, collection, batch))) {
            throw new HttpError('INVALID_BATCH');
          }
        }
        if (valid.length > 0) await tx.appendItemsToBatch(uid, collection, batch, valid);
        if (mode.kind === 'append' && mode.commit) {
          const modified = await tx.applyBatch(uid, collection, batch);
          await tx.closeBatch(uid, collection, batch);
          result = { modified };
        } else {
          result = { batch, current };
        }
      }
      await reportQuota(tx, quota, uid, reply);
      return result;
    });

    if ('batch' in outcome) {
      setLastModified(request, reply, outcome.current);
      return sendJson(reply.code(202), { batch: outcome.batch, success, failed });
    }
    setWriteTimestamp(request, reply, outcome.modified);
    return sendJson(reply, { modified: wireSeconds(outcome.modified), success, failed });
  });
}
