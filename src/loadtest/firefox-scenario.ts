/**
 * One sync of a simulated Firefox client, as Mozilla's syncstorage load
 * test runs it (mozilla-services/syncstorage-loadtest):
 *
 * 0. with a token server, GET /1.0/sync/1.5 when the token is missing or ending;
 * 1. GET info/configuration and info/collections;
 * 2. 40%: GET meta/global, PUT it when missing;
 * 3. 10%: GET clients?full=1&newer=…; 20%: POST one client record;
 * 4. 0–4 GETs of ?full=1&newer=… on distinct random collections
 *    (weights 71/15/7/4/3);
 * 5. 0–4 POSTs of 20–100 records (weights 67/18/9/4/2); half the time they
 *    form one batch on one collection: batch=true → append… → commit;
 * 6. 1%: delete a collection, else 1%: delete all the user's storage;
 * 7. optionally (`tabs`) GET and POST the cache-only `tabs` collection,
 *    as Firefox does on every sync.
 *
 * Where Mozilla's script differs: `newer` is the client's own last-seen
 * timestamp of the collection (Firefox syncs incrementally) instead of a
 * random point 1–100 hours back, and a one-POST batch is committed (their
 * script leaves it open).
 *
 * The first unexpected answer ends the scenario, as an assertion does there.
 */
import type { RandomSource } from './random-source.js';
import type { RecordFactory, RecordOut } from './record-factory.js';
import type { RequestKind } from './request-kinds.js';
import type { FailureKey, RequestStats } from './request-stats.js';
import type { SyncSession, TimedResult } from './sync-session.js';
import { payloadHash } from './payload-hash.js';
import type { LedgerItem, Seq, WriteLedger } from './write-ledger.js';

export const DEFAULT_COLLECTIONS = Object.freeze([
  'bookmarks',
  'forms',
  'passwords',
  'history',
  'prefs',
]);

const META_GLOBAL_PAYLOAD = JSON.stringify({
  syncID: 'loadtestsyncid',
  storageVersion: 5,
  engines: { bookmarks: { version: 2, syncID: 'loadtestbkmk' } },
});
const GET_COUNT_WEIGHTS = [71, 15, 7, 4, 3];
const POST_COUNT_WEIGHTS = [67, 18, 9, 4, 2];
const CLIENT_ID_WEIGHTS = [80, 15, 4, 1];

/** What one simulated user (one Firefox profile) remembers between syncs. */
export class SimulatedUser {
  /** Collection → wire timestamp last seen (for `newer=`). */
  readonly lastSeen = new Map<string, string>();
  constructor(readonly session: SyncSession) {}
}

export interface ScenarioOptions {
  random: RandomSource;
  records: RecordFactory;
  stats: RequestStats;
  /** Collections GETs and POSTs pick from. Default `DEFAULT_COLLECTIONS`. */
  collections?: readonly string[];
  /** Also sync the `tabs` collection each time. Default false. */
  tabs?: boolean;
  /** Keep a ledger of writes (crash drill). */
  ledger?: WriteLedger;
}

/** No answer, or a server error that is not a clean refusal: the write may have happened. */
function outcomeUnknown(res: TimedResult): boolean {
  return res.status === 0 || (res.status >= 500 && res.status !== 503);
}

function failureKey(res: TimedResult): FailureKey {
  if (res.status === 0) return `error:${res.error ?? 'unknown'}`;
  if (res.status === 503 && res.headers['retry-after'] === undefined) return '503 no Retry-After';
  return String(res.status);
}

function wireToMs(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? Math.round(n * 1000) : 0;
}

interface PostAnswer {
  modified?: number;
  batch?: string;
  success?: unknown[];
  failed?: Record<string, unknown>;
}

export class FirefoxScenario {
  private readonly collections: readonly string[];

  constructor(private readonly options: ScenarioOptions) {
    this.collections = options.collections ?? DEFAULT_COLLECTIONS;
  }

  /** Send one request, record it; the result when its status is expected, else undefined. */
  private async call(
    user: SimulatedUser,
    kind: RequestKind,
    method: string,
    path: string,
    expect: readonly number[],
    body?: string,
    check?: (res: TimedResult) => FailureKey | undefined,
  ): Promise<{ res: TimedResult; ok: boolean }> {
    const res = await user.session.send(method, path, body);
    let failure: FailureKey | undefined;
    if (!expect.includes(res.status)) failure = failureKey(res);
    else if (check) {
      try {
        failure = check(res);
      } catch {
        failure = `${res.status} unreadable body`;
      }
    }
    this.options.stats.record(kind, res.ms, failure, user.session.uid);
    return { res, ok: failure === undefined };
  }

  private ledgerItems(records: readonly RecordOut[]): LedgerItem[] {
    return records.map((r) => ({ id: r.id, hash: payloadHash(r.payload) }));
  }

  /** Run one sync; true when every answer was as expected. */
  async run(user: SimulatedUser): Promise<boolean> {
    const { random } = this.options;
    // Firefox asks the token server first when its token is missing or ending.
    const token = await user.session.renew();
    if (token) {
      this.options.stats.record(
        'GET token',
        token.ms,
        token.failure,
        user.session.uid || undefined,
      );
      if (token.failure !== undefined) return false;
    }
    if (!(await this.call(user, 'info/configuration', 'GET', '/info/configuration', [200])).ok) {
      return false;
    }
    const info = await this.call(user, 'info/collections', 'GET', '/info/collections', [200]);
    if (!info.ok) return false;

    if (random.chance(0.4) && !(await this.metaGlobal(user))) return false;
    if (random.chance(0.1) && !(await this.getCollection(user, 'clients', 'GET clients'))) {
      return false;
    }
    if (random.chance(0.2) && !(await this.postClient(user))) return false;

    const gets = random.sample(this.collections, random.weighted(GET_COUNT_WEIGHTS));
    for (const collection of gets) {
      if (!(await this.getCollection(user, collection, 'GET collection'))) return false;
    }

    const posts = random.weighted(POST_COUNT_WEIGHTS);
    if (posts > 0) {
      const ok = random.chance(0.5)
        ? await this.postBatch(user, random.pick(this.collections), posts)
        : await this.postPlain(user, random.sample(this.collections, posts));
      if (!ok) return false;
    }

    const deleteRoll = random.next();
    if (deleteRoll < 0.01) {
      if (!(await this.deleteCollection(user, random.pick(this.collections)))) return false;
    } else if (random.next() < 0.01) {
      if (!(await this.deleteStorage(user))) return false;
    }

    if (this.options.tabs) {
      if (!(await this.getCollection(user, 'tabs', 'GET tabs'))) return false;
      const [tab] = this.options.records.records(1);
      if (!(await this.post(user, 'tabs', 'POST tabs', '', [tab as RecordOut]))) return false;
    }
    return true;
  }

  private async metaGlobal(user: SimulatedUser): Promise<boolean> {
    const got = await this.call(user, 'GET meta/global', 'GET', '/storage/meta/global', [200, 404]);
    if (!got.ok) return false;
    if (got.res.status === 200) return true;
    this.options.stats.expectedMisses++;
    const body = JSON.stringify({ id: 'global', payload: META_GLOBAL_PAYLOAD });
    const start = this.options.ledger?.begin() ?? 0;
    const put = await this.call(
      user,
      'PUT meta/global',
      'PUT',
      '/storage/meta/global',
      [200],
      body,
    );
    const items = [{ id: 'global', hash: payloadHash(META_GLOBAL_PAYLOAD) }];
    if (put.ok)
      this.options.ledger?.ackWrite(user.session.uid, 'meta', items, wireToMs(put.res.body), start);
    else if (outcomeUnknown(put.res))
      this.options.ledger?.unknownWrite(user.session.uid, 'meta', items, start);
    return put.ok;
  }

  private async getCollection(
    user: SimulatedUser,
    collection: string,
    kind: RequestKind,
  ): Promise<boolean> {
    const newer = user.lastSeen.get(collection) ?? '0';
    const got = await this.call(
      user,
      kind,
      'GET',
      `/storage/${collection}?full=1&newer=${newer}`,
      [200],
      undefined,
      (res) => (res.body.startsWith('[') ? undefined : 'not a list'),
    );
    const seen = got.res.headers['x-last-modified'];
    if (got.ok && typeof seen === 'string' && seen !== '') user.lastSeen.set(collection, seen);
    return got.ok;
  }

  private postClient(user: SimulatedUser): Promise<boolean> {
    const cid = this.options.random.weighted(CLIENT_ID_WEIGHTS);
    const record = { id: `client${cid}`, payload: this.options.records.payload(300) };
    return this.post(user, 'clients', 'POST clients', '', [record]);
  }

  /** A POST that writes at once (no batch, or a batch commit); ledgered. */
  private async post(
    user: SimulatedUser,
    collection: string,
    kind: RequestKind,
    query: string,
    records: readonly RecordOut[],
    batchItems?: LedgerItem[],
  ): Promise<boolean> {
    const { ledger } = this.options;
    const start = ledger?.begin() ?? 0;
    let answer: PostAnswer = {};
    const sent = await this.call(
      user,
      kind,
      'POST',
      `/storage/${collection}${query}`,
      [200],
      JSON.stringify(records),
      (res) => {
        answer = JSON.parse(res.body) as PostAnswer;
        const failed = Object.keys(answer.failed ?? {}).length;
        return answer.success?.length === records.length && failed === 0
          ? undefined
          : 'failed items';
      },
    );
    if (sent.ok && answer.modified !== undefined) {
      user.lastSeen.set(collection, answer.modified.toFixed(2));
    }
    if (ledger) {
      const uid = user.session.uid;
      const items = [...(batchItems ?? []), ...this.ledgerItems(records)];
      if (sent.ok) {
        ledger.ackWrite(uid, collection, items, wireToMs(answer.modified), start, !!batchItems);
      } else if (outcomeUnknown(sent.res)) {
        ledger.unknownWrite(uid, collection, items, start);
      } else if (batchItems) {
        ledger.abandonBatch(uid, collection, items);
      }
    }
    return sent.ok;
  }

  private async postPlain(user: SimulatedUser, collections: readonly string[]): Promise<boolean> {
    for (const collection of collections) {
      const records = this.options.records.records(this.options.random.int(20, 100));
      if (!(await this.post(user, collection, 'POST collection', '', records))) return false;
    }
    return true;
  }

  /** `posts` POSTs forming one batch: create, appends, commit (a lone POST is committed empty). */
  private async postBatch(
    user: SimulatedUser,
    collection: string,
    posts: number,
  ): Promise<boolean> {
    const { random, records: factory, ledger } = this.options;
    const uid = user.session.uid;
    const appended: LedgerItem[] = [];
    const path = `/storage/${collection}`;
    let batch = '';
    for (let i = 0; i < Math.max(posts, 2); i++) {
      const last = i === Math.max(posts, 2) - 1;
      const records = i < posts ? factory.records(random.int(20, 100)) : [];
      if (last) {
        const query = `?batch=${encodeURIComponent(batch)}&commit=true`;
        return this.post(user, collection, 'POST batch commit', query, records, appended);
      }
      const kind: RequestKind = i === 0 ? 'POST batch=true' : 'POST batch append';
      const query = i === 0 ? '?batch=true' : `?batch=${encodeURIComponent(batch)}`;
      let answer: PostAnswer = {};
      const sent = await this.call(
        user,
        kind,
        'POST',
        path + query,
        [202],
        JSON.stringify(records),
        (res) => {
          answer = JSON.parse(res.body) as PostAnswer;
          return answer.success?.length === records.length && typeof answer.batch === 'string'
            ? undefined
            : 'failed items';
        },
      );
      if (ledger) appended.push(...this.ledgerItems(records));
      if (!sent.ok) {
        // Never committed: nothing of it may become visible.
        ledger?.abandonBatch(uid, collection, appended);
        return false;
      }
      batch = answer.batch as string;
    }
    return true;
  }

  private async deleteCollection(user: SimulatedUser, collection: string): Promise<boolean> {
    const start = this.options.ledger?.begin() ?? 0;
    const sent = await this.call(
      user,
      'DELETE collection',
      'DELETE',
      `/storage/${collection}`,
      [200],
    );
    this.afterDelete(user, collection, start, sent.res, sent.ok);
    return sent.ok;
  }

  private async deleteStorage(user: SimulatedUser): Promise<boolean> {
    const start = this.options.ledger?.begin() ?? 0;
    const sent = await this.call(user, 'DELETE storage', 'DELETE', '/storage', [200]);
    this.afterDelete(user, null, start, sent.res, sent.ok);
    return sent.ok;
  }

  private afterDelete(
    user: SimulatedUser,
    collection: string | null,
    start: Seq,
    res: TimedResult,
    ok: boolean,
  ): void {
    if (ok) {
      if (collection === null) user.lastSeen.clear();
      else user.lastSeen.delete(collection);
    }
    const { ledger } = this.options;
    if (!ledger) return;
    if (ok) ledger.ackDelete(user.session.uid, collection, start);
    else if (outcomeUnknown(res)) ledger.unknownDelete(user.session.uid, collection, start);
  }
}
