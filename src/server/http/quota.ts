/**
 * Per-user quota (off unless configured): a write by a user at or over quota
 * is 403 with code 14; when less than 1 MB is left, responses carry
 * X-Weave-Quota-Remaining in KB (API.md "Headers"). The operator's per-user
 * quota (`setUserQuota`) overrides the global one. Usage is the storage's
 * running total; it may still count expired items, so the exact figure is
 * recounted before refusing a write or warning.
 */
import type { FastifyReply } from 'fastify';
import type { SyncStorage } from '../../storage/sync-storage.js';
import { HttpError } from '../errors/weave-errors.js';

const WARN_BELOW_BYTES = 1024 * 1024;

/** The quota that applies to the user: their own, else the global one; null when quotas are off. */
export async function quotaOf(
  storage: SyncStorage,
  globalQuotaBytes: number | null,
  uid: number,
): Promise<number | null> {
  if (globalQuotaBytes === null) return null;
  return (await storage.getUserQuota(uid)) ?? globalQuotaBytes;
}

/** Throws OVER_QUOTA when the user is at or over `quotaBytes` (from `quotaOf`). */
export async function enforceQuota(
  storage: SyncStorage,
  quotaBytes: number | null,
  uid: number,
): Promise<void> {
  if (quotaBytes === null) return;
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
  if (quotaBytes - (await storage.getTotalSize(uid)) >= WARN_BELOW_BYTES) return;
  const remaining = quotaBytes - (await storage.getTotalSize(uid, true));
  if (remaining < WARN_BELOW_BYTES) {
    reply.header('X-Weave-Quota-Remaining', String(Math.max(0, Math.floor(remaining / 1024))));
  }
}
