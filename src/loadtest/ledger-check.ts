/**
 * Compares what a collection holds after a crash with the ledger: every
 * acknowledged write present and intact (unless a later unanswered request
 * may have changed it), every unanswered batch or POST applied wholly or not
 * at all, and nothing of an uncommitted batch visible.
 */
import type { LedgerEntry, UnknownOp, UserLedger } from './write-ledger.js';

export interface LedgerVerdict {
  /** Acknowledged items checked. */
  checked: number;
  /** Present with the acknowledged payload. */
  intact: number;
  /** Different or missing, but explained by an unanswered request. */
  explained: number;
  /** Missing, though acknowledged and not explained: must be 0. */
  lost: number;
  /** Present with a payload nobody wrote there: must be 0. */
  corrupt: number;
  /** Unanswered batches/POSTs with some but not all items visible: must be 0. */
  halfApplied: number;
  /** Items of never-committed batches that are visible: must be 0. */
  uncommittedVisible: number;
  /** A few "uid/collection/id: what" lines describing failures. */
  samples: string[];
}

export function emptyVerdict(): LedgerVerdict {
  return {
    checked: 0,
    intact: 0,
    explained: 0,
    lost: 0,
    corrupt: 0,
    halfApplied: 0,
    uncommittedVisible: 0,
    samples: [],
  };
}

const MAX_SAMPLES = 10;

function note(verdict: LedgerVerdict, line: string): void {
  if (verdict.samples.length < MAX_SAMPLES) verdict.samples.push(line);
}

function touches(op: { collection: string | null }, collection: string): boolean {
  return op.collection === null || op.collection === collection;
}

/**
 * Check one collection of one user. `actual` maps each visible id to the
 * hash of its payload. Adds to `verdict`.
 */
export function checkCollection(
  uid: number,
  user: UserLedger,
  collection: string,
  actual: ReadonlyMap<string, string>,
  verdict: LedgerVerdict,
): void {
  const unknown = user.unknown.filter((op) => touches(op, collection));
  const unknownDeletes = unknown.filter((op) => op.kind === 'delete');
  // id → unanswered writes of it in this collection
  const unknownWrites = new Map<string, UnknownOp[]>();
  for (const op of unknown) {
    if (op.kind !== 'write') continue;
    for (const item of op.items) {
      const list = unknownWrites.get(item.id) ?? [];
      list.push(op);
      unknownWrites.set(item.id, list);
    }
  }
  const entries = user.entries.get(collection) ?? new Map<string, LedgerEntry>();

  for (const [id, entry] of entries) {
    verdict.checked++;
    const found = actual.get(id);
    if (found === entry.hash) {
      verdict.intact++;
      continue;
    }
    // A request that may have been applied after this write: one that ended after it started.
    const later = (op: UnknownOp): boolean => op.end > entry.start;
    const allowed = new Set(entry.alternatives ?? []);
    for (const op of (unknownWrites.get(id) ?? []).filter(later)) {
      for (const item of op.items) if (item.id === id) allowed.add(item.hash);
    }
    const mayBeGone = entry.mayBeGone === true || unknownDeletes.some(later);
    if (found === undefined ? mayBeGone : allowed.has(found)) {
      verdict.explained++;
    } else if (found === undefined) {
      verdict.lost++;
      note(verdict, `${uid}/${collection}/${id}: acknowledged, missing`);
    } else {
      verdict.corrupt++;
      note(verdict, `${uid}/${collection}/${id}: payload hash ${found}, expected ${entry.hash}`);
    }
  }

  // All or nothing, for each unanswered multi-item write no delete can have cut into.
  for (const op of unknown) {
    if (op.kind !== 'write' || op.items.length < 2 || op.collection !== collection) continue;
    if (user.deletes.some((d) => touches(d, collection) && d.end > op.start)) continue;
    const considered = op.items.filter((item) => {
      const entry = entries.get(item.id);
      return !entry || entry.start < op.end;
    });
    const applied = considered.filter((item) => actual.get(item.id) === item.hash).length;
    if (applied > 0 && applied < considered.length) {
      verdict.halfApplied++;
      note(verdict, `${uid}/${collection}: ${applied} of ${considered.length} items of one write`);
    }
  }

  for (const batch of user.abandoned) {
    if (batch.collection !== collection) continue;
    const visible = batch.items.filter((item) => actual.get(item.id) === item.hash).length;
    if (visible > 0) {
      verdict.uncommittedVisible += visible;
      note(verdict, `${uid}/${collection}: ${visible} items of an uncommitted batch visible`);
    }
  }
}
