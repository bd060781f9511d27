/**
 * Abuse of the HTTP layer through `app.inject()` on `sqlite::memory:`:
 * hostile paths, ids, collection names, query strings, offsets, batch ids,
 * headers, bodies and Authorization headers. Properties: never a 5xx, never
 * an internal-error log line, no request for another user's data accepted,
 * and user 2's data (seeded first) identical at the end. On the bare SQL
 * backend and on the embedded default (cached layer with the in-process
 * cache, `tabs` cache-only).
 *
 * FUZZ_RUNS=5000 node scripts/run-tests.mjs test/fuzz   # a longer session
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logging/logger.js';
import { MemoryStore } from '@syncstorage-ts/memcache';
import { createCachedStorage, PRODUCTION_DEFAULTS } from '../../src/storage/cached/index.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import type { SyncStorage } from '../../src/storage/sync-storage.js';
import { injectTransport, SyncClient } from '../support/sync-client.js';
import {
  authSpoiler,
  body,
  headers,
  method,
  queryString,
  relativePath,
  spoil,
} from './http-arbitraries.js';
import { fuzzRuns } from '@syncstorage-ts/test-support';

const SECRET = 'fuzz master secret';
const VICTIM = 2;
const ATTACKER = 1;

/** Everything of the victim's a request could change. */
async function snapshot(storage: SyncStorage, victimBatch: string): Promise<unknown> {
  const timestamps = await storage.getCollectionTimestamps(VICTIM);
  const items: Record<string, unknown> = {};
  for (const collection of Object.keys(timestamps).sort()) {
    items[collection] = (await storage.getItems(VICTIM, collection, { sort: 'oldest' })).items;
  }
  return {
    timestamps,
    items,
    batchOpen: await storage.validBatch(VICTIM, 'history', victimBatch),
    storageTimestamp: await storage.getStorageTimestamp(VICTIM),
  };
}

const BACKENDS: Record<string, () => Promise<SyncStorage>> = {
  'sqlite::memory:': () => openSqlStorage({ url: 'sqlite::memory:' }),
  'embedded default (cached layer, in-process cache)': async () =>
    createCachedStorage({
      storage: await openSqlStorage({ url: 'sqlite::memory:' }),
      cache: new MemoryStore(),
      ...PRODUCTION_DEFAULTS,
    }),
};

for (const [backend, open] of Object.entries(BACKENDS)) {
  describe(`HTTP fuzzing on ${backend}`, () => {
    let storage: SyncStorage;
    let app: FastifyInstance;
    let attacker: SyncClient;
    let victim: SyncClient;
    let victimBatch: string;
    const errorLines: string[] = [];

    let before2: unknown;

    before(async () => {
      storage = await open();
      const destination = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) {
            if ((JSON.parse(line) as { level: number }).level >= 50) errorLines.push(line);
          }
          done();
        },
      });
      app = buildApp({
        storage,
        config: { masterSecret: SECRET },
        logger: createLogger({ destination, level: 'warn' }),
      });
      await app.ready();
      const transport = injectTransport(app);
      attacker = new SyncClient({ masterSecret: SECRET, uid: ATTACKER, transport });
      victim = new SyncClient({ masterSecret: SECRET, uid: VICTIM, transport });

      for (const client of [victim, attacker]) {
        const records = Array.from({ length: 30 }, (_, i) => ({ id: `b${i}`, payload: `p${i}` }));
        assert.equal((await client.post('/storage/bookmarks', records)).status, 200);
        assert.equal(
          (await client.put('/storage/meta/global', { id: 'global', payload: 'mg' })).status,
          200,
        );
        const tab = await client.post('/storage/tabs', [{ id: 't', payload: 'tab' }]);
        assert.equal(tab.status, 200);
      }
      const opened = await victim.post('/storage/history?batch=true', [{ id: 'h1', payload: 'x' }]);
      assert.equal(opened.status, 202);
      victimBatch = (opened.json() as { batch: string }).batch;
      before2 = await snapshot(storage, victimBatch);
    });

    after(async () => {
      await app.close();
      await storage.close();
    });

    test('signed requests of user 1 with hostile paths, queries, headers and bodies: no 5xx', async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(
          method,
          relativePath,
          queryString([victimBatch, '1', '0', 'true']),
          headers,
          body,
          async (verb, path, query, extra, content) => {
            const res = await attacker.request(verb, path + query, {
              headers: extra,
              ...(content ? { body: content.text, contentType: content.type } : {}),
            });
            assert.ok(res.status < 500, `${verb} ${path}${query} → ${res.status} ${res.body}`);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          },
        ),
        { numRuns: fuzzRuns(300) },
      );
      assert.deepEqual(errorLines, []);
      // The generators reach the routes, not only the refusals.
      const seen = [...statuses.keys()];
      assert.ok(
        seen.some((s) => s >= 200 && s < 300),
        `statuses seen: ${seen.join(' ')}`,
      );
      assert.ok(seen.filter((s) => s >= 400).length >= 3, `statuses seen: ${seen.join(' ')}`);
    });

    test('garbage and near-miss Authorization headers: refused, no 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          method,
          fc.constantFrom(String(VICTIM), String(ATTACKER), '0', '99999999999', 'abc', '-1'),
          relativePath,
          queryString([victimBatch]),
          body,
          authSpoiler,
          async (verb, uid, path, query, content, spoiler) => {
            const url = `/1.5/${uid}${path}${query}`;
            const authorization = spoil(victim.authorization(verb, url), spoiler);
            if (authorization === undefined) return;
            const res = await victim.request(verb, url, {
              raw: true,
              unsigned: true,
              headers: { authorization },
              ...(content ? { body: content.text, contentType: content.type } : {}),
            });
            assert.ok(res.status < 500, `${verb} ${url} → ${res.status}`);
            if (verb !== 'OPTIONS' && res.status < 400) {
              // Only the routes that need no auth (or a 404 for an unknown path) may answer.
              assert.fail(`${verb} ${url} accepted a bad Authorization: ${res.status}`);
            }
          },
        ),
        { numRuns: fuzzRuns(300) },
      );
      assert.deepEqual(errorLines, []);
    });

    test("user 1's valid token on user 2's paths: refused, no 5xx", async () => {
      await fc.assert(
        fc.asyncProperty(
          method.filter((m) => m !== 'OPTIONS'),
          relativePath,
          queryString([victimBatch]),
          body,
          async (verb, path, query, content) => {
            const url = `/1.5/${VICTIM}${path}${query}`;
            const res = await attacker.request(verb, url, {
              raw: true,
              ...(content ? { body: content.text, contentType: content.type } : {}),
            });
            assert.ok(res.status >= 400 && res.status < 500, `${verb} ${url} → ${res.status}`);
          },
        ),
        { numRuns: fuzzRuns(200) },
      );
    });

    test("user 2's data is untouched by all of the above", async () => {
      assert.deepEqual(await snapshot(storage, victimBatch), before2);
      // And the victim can still use it.
      const res = await victim.get('/storage/bookmarks?full=1&limit=5');
      assert.equal(res.status, 200);
      assert.equal((res.json() as unknown[]).length, 5);
    });
  });
}
