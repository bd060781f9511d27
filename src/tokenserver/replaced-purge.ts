/**
 * Storage of replaced users, on a single node (Mozilla's
 * `purge_old_records`, where the token server and the storage are one
 * process): a record replaced longer ago than the grace period has its uid's
 * storage deleted, then the record itself. Records of other nodes are left
 * for those nodes; a record whose node row is gone has no storage here to
 * delete and only its row goes. Works in pages by uid, one short
 * transaction per user, so it never holds the database for long.
 */
import type { SyncStorage } from '../storage/sync-storage.js';
import type { TokenserverStore } from './tokenserver-store.js';

export interface ReplacedPurgeOptions {
  store: TokenserverStore;
  storage: SyncStorage;
  /** This node's URL as the nodes table has it. */
  node: string;
  /** Keep replaced records this long (ms), for a client still syncing with an old token. */
  graceMs: number;
  clock?: () => number;
  pageSize?: number;
  onProgress?: (progress: ReplacedPurgeResult) => void;
}

export interface ReplacedPurgeResult {
  /** Users whose storage and record were deleted. */
  usersPurged: number;
  /** Records of another node, left alone. */
  otherNodes: number;
}

export async function purgeReplacedUsers(
  options: ReplacedPurgeOptions,
): Promise<ReplacedPurgeResult> {
  const clock = options.clock ?? Date.now;
  const before = clock() - options.graceMs;
  const node = options.node.replace(/\/+$/, '');
  const result: ReplacedPurgeResult = { usersPurged: 0, otherNodes: 0 };
  let afterUid = 0;
  for (;;) {
    const page = await options.store.replacedBefore(before, afterUid, options.pageSize ?? 100);
    if (page.length === 0) break;
    for (const record of page) {
      afterUid = record.uid;
      if (record.node !== null && record.node.replace(/\/+$/, '') !== node) {
        result.otherNodes++;
        continue;
      }
      if (record.node !== null) await options.storage.deleteStorage(record.uid);
      await options.store.deleteUserRecord(record.uid);
      result.usersPurged++;
    }
    options.onProgress?.({ ...result });
  }
  return result;
}
