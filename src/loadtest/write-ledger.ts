/**
 * The clients' ledger of writes, for the crash drill: what the server
 * acknowledged (ids and payload hashes, batch commits), what was sent but
 * never answered (the server died: it may or may not have applied it), and
 * batches that were opened but never committed.
 *
 * Ordering comes from a sequence number taken when a request starts and
 * when its answer (or failure) arrives. A write that finished before another
 * started is older for sure; overlapping requests (two simulated devices of
 * one user) are ordered by the server's `modified`, and where even that
 * cannot decide, both outcomes are allowed.
 */
export interface LedgerItem {
  id: string;
  /** `payloadHash(payload)` */
  hash: string;
}

/** A position in the sequence of request starts and ends. */
export type Seq = number;

export interface LedgerEntry {
  hash: string;
  /** Server timestamp of the write, ms. */
  modified: number;
  start: Seq;
  end: Seq;
  /** Other hashes an overlapping, equally-timed write may have left. */
  alternatives?: Set<string>;
  /** An overlapping delete may have removed it. */
  mayBeGone?: boolean;
}

/** A request whose outcome is unknown: no answer came (or a 5xx that is not a 503). */
export interface UnknownOp {
  kind: 'write' | 'delete';
  /** null: the whole storage. */
  collection: string | null;
  items: LedgerItem[];
  start: Seq;
  end: Seq;
}

export interface DeleteRecord {
  collection: string | null;
  start: Seq;
  end: Seq;
}

export interface UserLedger {
  /** collection → id → last acknowledged write */
  entries: Map<string, Map<string, LedgerEntry>>;
  unknown: UnknownOp[];
  deletes: DeleteRecord[];
  /** Items of batches never committed: none may ever be visible. */
  abandoned: { collection: string; items: LedgerItem[] }[];
}

export class WriteLedger {
  private seq = 0;
  readonly users = new Map<number, UserLedger>();
  /** Items whose write the server acknowledged (a re-write counts again). */
  writesAcknowledged = 0;
  batchesCommitted = 0;
  unknownOutcomes = 0;

  /** Call when a request starts; pass the result to the ack/unknown call. */
  begin(): Seq {
    return ++this.seq;
  }

  private user(uid: number): UserLedger {
    let user = this.users.get(uid);
    if (!user) {
      user = { entries: new Map(), unknown: [], deletes: [], abandoned: [] };
      this.users.set(uid, user);
    }
    return user;
  }

  /** The server acknowledged `items` in `collection` at `modified` (a POST, PUT or batch commit). */
  ackWrite(
    uid: number,
    collection: string,
    items: readonly LedgerItem[],
    modified: number,
    start: Seq,
    batch = false,
  ): void {
    const end = ++this.seq;
    const user = this.user(uid);
    let entries = user.entries.get(collection);
    if (!entries) {
      entries = new Map();
      user.entries.set(collection, entries);
    }
    for (const item of items) {
      this.writesAcknowledged++;
      const fresh: LedgerEntry = { hash: item.hash, modified, start, end };
      const old = entries.get(item.id);
      if (!old || old.end < start || old.modified < modified) {
        entries.set(item.id, fresh);
      } else if (old.modified === modified && old.hash !== item.hash) {
        (old.alternatives ??= new Set()).add(item.hash);
      }
    }
    if (batch) this.batchesCommitted++;
  }

  /** The server acknowledged deleting `collection` (null: all the user's data). */
  ackDelete(uid: number, collection: string | null, start: Seq): void {
    const end = ++this.seq;
    const user = this.user(uid);
    user.deletes.push({ collection, start, end });
    const scope = collection === null ? [...user.entries.values()] : [user.entries.get(collection)];
    for (const entries of scope) {
      if (!entries) continue;
      for (const [id, entry] of entries) {
        // Finished before the delete started: gone for sure. Overlapping: maybe.
        if (entry.end < start) entries.delete(id);
        else entry.mayBeGone = true;
      }
    }
  }

  /** A write (POST, PUT or batch commit) that got no answer: applied wholly or not at all. */
  unknownWrite(uid: number, collection: string, items: readonly LedgerItem[], start: Seq): void {
    this.unknownOutcomes++;
    this.user(uid).unknown.push({
      kind: 'write',
      collection,
      items: [...items],
      start,
      end: ++this.seq,
    });
  }

  /** A delete that got no answer. */
  unknownDelete(uid: number, collection: string | null, start: Seq): void {
    this.unknownOutcomes++;
    const end = ++this.seq;
    const user = this.user(uid);
    user.unknown.push({ kind: 'delete', collection, items: [], start, end });
    user.deletes.push({ collection, start, end });
  }

  /** A batch that will never be committed: its items must never become visible. */
  abandonBatch(uid: number, collection: string, items: readonly LedgerItem[]): void {
    if (items.length > 0) this.user(uid).abandoned.push({ collection, items: [...items] });
  }

  /** Every collection the ledger has something to check in, for `uid`. */
  collectionsOf(uid: number): string[] {
    const user = this.users.get(uid);
    if (!user) return [];
    const names = new Set(user.entries.keys());
    for (const op of user.unknown) if (op.collection !== null) names.add(op.collection);
    for (const batch of user.abandoned) names.add(batch.collection);
    return [...names].sort();
  }
}
