/**
 * One item of the in-process store, and the stampede-protection rules of
 * memcached's meta `mg` that read it (protocol.txt, "Meta Get": flags N, R,
 * W, X, Z; behaviour checked against memcached 1.6.18 by hand, see
 * `packages/memcache/src/store-conformance.ts`).
 */
import type { CasToken } from './cache-store.js';
import type { ValueFormat } from './memory-codec.js';
import { remainingSeconds } from './ttl.js';

/** Bytes an item costs beyond its key and value (memcached's item header is ~50). */
export const ITEM_OVERHEAD = 48;

export interface MemoryItem {
  readonly bytes: Buffer;
  readonly format: ValueFormat;
  readonly cas: CasToken;
  /** Milliseconds since the epoch; 0 = never. Mutable: `touch` changes it. */
  expiresAt: number;
  /** Key bytes + value bytes + overhead, for the byte budget. */
  readonly size: number;
  /** An empty item made by a lease on a miss (`mg … N`): it holds no value. */
  readonly placeholder: boolean;
  /** Marked stale by `invalidate` (`md … I`): served with X until rewritten. */
  stale: boolean;
  /**
   * memcached's ITEM_TOKEN_SENT: one reader has been told to recompute (W);
   * every later reader is told someone else is on it (Z).
   */
  tokenSent: boolean;
}

export interface ReadFlags {
  win: boolean;
  stale: boolean;
  winnerPending: boolean;
}

/**
 * What memcached's `mg` says about an item it returns, updating the item as
 * memcached does: a stale item, or (with `recacheThreshold`) one whose TTL
 * has fewer than that many seconds left, hands out W exactly once; after
 * that every reader sees Z. Any `mg` does this — a plain get of a stale item
 * takes the recompute token too, as on the real server.
 */
export function takeReadFlags(
  item: MemoryItem,
  nowMs: number,
  recacheThreshold?: number,
): ReadFlags {
  let win = false;
  if (!item.tokenSent) {
    const recache =
      recacheThreshold !== undefined &&
      item.expiresAt !== 0 &&
      remainingSeconds(item.expiresAt, nowMs) < recacheThreshold;
    if (item.stale || recache) {
      item.tokenSent = true;
      win = true;
    }
  }
  return { win, stale: item.stale, winnerPending: item.tokenSent && !win };
}
