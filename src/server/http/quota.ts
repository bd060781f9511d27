/**
 * Per-user quota (off unless configured): a write by a user at or over quota
 * is 403 with code 14; when less than 1 MB is left, responses carry
 * X-Weave-Quota-Remaining in KB (API.md "Headers").
 */
import type { FastifyReply } from 'fastify';
import type { SyncStorage } from '../../storage/sync-storage.js';
import { HttpError } from '../errors/weave-errors.js';

const WARN_BELOW_BYTES = 1024 * 1024;

export async function enforceQuota(
  storage: SyncStorage,
  quotaBytes: number | null,
  uid: number,
): Promise<void> {
  if (quotaBytes === null) return;
  // A cached total may be stale after deletes: recount before refusing.
  if ((await storage.getTotalSize(uid)) < quotaBytes) return;
  if ((await storage.getTotalSize(uid, true)) >= quotaBytes) throw new HttpError('OVER_QUOTA');
}

export async function reportQuota(
  storage: SyncStorage,
  quotaBytes: number | null,
  uid: number,
  reply: FastifyReply,
): Promise<void> {
  if (quotaBytes === null) return;
  const remaining = quotaBytes - (await storage.getTotalSize(uid, true));
  if (remaining < WARN_BELOW_BYTES) {
    reply.header('X-Weave-Quota-Remaining', String(Math.max(0, Math.floor(remaining / 1024))));
  }
}
