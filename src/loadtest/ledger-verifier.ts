/**
 * Reads back, over HTTP, every collection the ledger wrote to and checks it
 * (see ledger-check.ts). Used by the crash drill after the server restarts.
 */
import { checkCollection, emptyVerdict, type LedgerVerdict } from './ledger-check.js';
import type { HttpTransport } from './http-transport.js';
import { payloadHash } from './payload-hash.js';
import { SyncSession } from './sync-session.js';
import type { WriteLedger } from './write-ledger.js';

export interface VerifyOptions {
  transport: HttpTransport;
  masterSecret: string;
  ledger: WriteLedger;
  /** Items per GET page. Default 1000. */
  pageSize?: number;
}

export class VerifyError extends Error {
  readonly code = 'LOADTEST_VERIFY_FAILED';
}

/** id → payload hash of everything visible in a collection. */
async function readCollection(
  session: SyncSession,
  collection: string,
  pageSize: number,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let offset: string | undefined;
  do {
    const query = `full=1&limit=${pageSize}${offset ? `&offset=${encodeURIComponent(offset)}` : ''}`;
    const res = await session.send('GET', `/storage/${collection}?${query}`);
    if (res.status !== 200) {
      throw new VerifyError(
        `GET /storage/${collection} for uid ${session.uid}: ${res.status || res.error}`,
      );
    }
    const items = JSON.parse(res.body) as { id: string; payload: string }[];
    for (const item of items) found.set(item.id, payloadHash(item.payload));
    const next = res.headers['x-weave-next-offset'];
    offset = typeof next === 'string' && next !== '' ? next : undefined;
  } while (offset !== undefined);
  return found;
}

/** Check every user and collection in the ledger. Throws `VerifyError` if a read fails. */
export async function verifyLedger(options: VerifyOptions): Promise<LedgerVerdict> {
  const verdict = emptyVerdict();
  const pageSize = options.pageSize ?? 1000;
  for (const [uid, user] of options.ledger.users) {
    const session = SyncSession.minted({
      transport: options.transport,
      masterSecret: options.masterSecret,
      uid,
    });
    for (const collection of options.ledger.collectionsOf(uid)) {
      const actual = await readCollection(session, collection, pageSize);
      checkCollection(uid, user, collection, actual, verdict);
    }
  }
  return verdict;
}
