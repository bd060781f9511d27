/**
 * The admin listener's API over every backend: refusals without the right
 * token (and on the public port), metrics that move with the traffic, users
 * listed, searched, shown, their data deleted and their quota set.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheKeyKind } from '../../src/admin/metrics/cache-key-kind.js';
import { CacheKeys } from '../../src/storage/cached/cache-keys.js';
import { ADMIN_TOKEN, BACKENDS, openOperator, type Operator } from './admin-setup.js';

test('cache keys are classified by the layout CacheKeys builds', () => {
  const keys = new CacheKeys('p-');
  const kind = cacheKeyKind('p-', new Set(['tabs']));
  assert.equal(kind(keys.metadata(7)), 'metadata');
  assert.equal(kind(keys.collection(7, 'meta')), 'cached');
  assert.equal(kind(keys.collection(7, 'tabs')), 'cache-only');
  assert.equal(kind(keys.batches(7, 'tabs')), 'batches');
  assert.equal(kind(keys.lock(7, 'meta')), 'lock');
  assert.equal(kind('other-app:7:metadata'), 'other');
});

for (const backend of BACKENDS) {
  describe(`admin API (${backend})`, () => {
    let op: Operator;
    before(async () => {
      op = await openOperator(backend, 10 * 1024 * 1024);
      await op.client(101).post('/storage/bookmarks', [
        { id: 'a', payload: 'x'.repeat(1000) },
        { id: 'b', payload: 'y'.repeat(500) },
      ]);
      await op.client(101).put('/storage/meta/global', { payload: 'meta' });
      await op.client(1025).post('/storage/history', [{ id: 'h', payload: 'z'.repeat(40) }]);
      await op.client(1025).get('/info/collections');
      await op.client(1025).get('/storage/meta/global');
    });
    after(() => op.close());

    test('refuses a request without the token, with a wrong one, or another scheme', async () => {
      const attempts: Array<Record<string, string>> = [
        {},
        { authorization: 'Bearer wrong-token-wrong-token' },
        { authorization: `Bearer ${ADMIN_TOKEN}x` },
        { authorization: `Basic ${ADMIN_TOKEN}` },
        { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
      ];
      for (const headers of attempts) {
        for (const url of ['/metrics', '/api/users', '/api/users/101']) {
          const res = await op.call('GET', url, undefined, headers);
          assert.equal(res.status, 401, `${url} with ${JSON.stringify(headers)}`);
          assert.match(String(res.headers['www-authenticate']), /^Bearer/);
          assert.doesNotMatch(res.body, /syncstorage_|userId/);
        }
      }
      const del = await op.call('DELETE', '/api/users/101/data', undefined, {});
      assert.equal(del.status, 401);
      assert.ok((await op.storage.getTotalSize(101, true)) > 0, 'nothing deleted');
    });

    test('the admin routes do not exist on the public port', async () => {
      for (const url of ['/metrics', '/api/users', '/api/overview', '/admin.js']) {
        const res = await op.app.inject({
          method: 'GET',
          url,
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        assert.equal(res.statusCode, 404, url);
        assert.doesNotMatch(res.body, /syncstorage_|userId/);
      }
    });

    test('metrics: requests by route and status, latency, SQL statements, totals', async () => {
      const res = await op.call('GET', '/metrics');
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      const text = res.body;
      assert.match(
        text,
        /syncstorage_http_requests_total\{method="POST",route="\/1\.5\/:uid\/storage\/:collection",status="200"\} 2/,
      );
      assert.match(
        text,
        /syncstorage_http_request_duration_seconds_bucket\{le="[^"]+",method="GET"/,
      );
      assert.match(
        text,
        /syncstorage_db_statement_duration_seconds_count\{operation="insert",outcome="ok"\} [1-9]/,
      );
      assert.match(text, /syncstorage_db_connections_in_use\{mode="(read|write)"\} 0/);
      assert.match(text, /^syncstorage_users 2$/m);
      assert.match(text, /^syncstorage_items 4$/m);
      assert.match(text, /^syncstorage_stored_bytes 1544$/m);
      if (backend === 'cached') {
        assert.match(
          text,
          /syncstorage_cache_reads_total\{kind="metadata",outcome="(hit|miss)"\} [1-9]/,
        );
      }
    });

    test('users: listed largest first, searched by uid digits, shown with collections', async () => {
      const all = (await op.call('GET', '/api/users')).json() as {
        users: Array<{ userId: number; bytes: number; items: number }>;
      };
      assert.deepEqual(
        all.users.map((u) => [u.userId, u.bytes, u.items]),
        [
          [101, 1504, 3],
          [1025, 40, 1],
        ],
      );
      const found = (await op.call('GET', '/api/users?search=10')).json() as {
        users: Array<{ userId: number }>;
      };
      assert.deepEqual(
        found.users.map((u) => u.userId),
        [101, 1025],
      );
      const one = (await op.call('GET', '/api/users?search=102')).json() as {
        users: Array<{ userId: number }>;
      };
      assert.deepEqual(
        one.users.map((u) => u.userId),
        [1025],
      );
      assert.equal((await op.call('GET', '/api/users?search=x%25')).status, 400);
      const shown = (await op.call('GET', '/api/users/101')).json() as {
        bytes: number;
        effectiveQuotaBytes: number;
        collections: Array<{ name: string; count: number; bytes: number; lastModified: number }>;
      };
      assert.equal(shown.bytes, 1504);
      assert.equal(shown.effectiveQuotaBytes, 10 * 1024 * 1024);
      assert.deepEqual(
        shown.collections.map((c) => [c.name, c.count, c.bytes, c.lastModified > 0]),
        [
          ['bookmarks', 2, 1500, true],
          ['meta', 1, 4, true],
        ],
      );
      assert.equal((await op.call('GET', '/api/users/abc')).status, 400);
    });

    test('quota: set, used by the API (403 code 14), cleared', async () => {
      const set = await op.call('PUT', '/api/users/1025/quota', { bytes: 10 });
      assert.equal(set.status, 200);
      assert.equal(await op.storage.getUserQuota(1025), 10);
      const over = await op.client(1025).post('/storage/history', [{ id: 'i', payload: 'x' }]);
      assert.equal(over.status, 403);
      assert.equal(over.body, '14');
      assert.equal((await op.call('PUT', '/api/users/1025/quota', { bytes: -1 })).status, 400);
      assert.equal((await op.call('PUT', '/api/users/1025/quota', { bytes: 'lots' })).status, 400);
      await op.call('PUT', '/api/users/1025/quota', { bytes: null });
      assert.equal(await op.storage.getUserQuota(1025), null);
      assert.equal(
        (await op.client(1025).post('/storage/history', [{ id: 'i', payload: 'x' }])).status,
        200,
      );
    });

    test('purge: status, then a run on demand counted in the metrics', async () => {
      const before = (await op.call('GET', '/api/purge')).json() as {
        runs: number;
        intervalSeconds: number;
      };
      assert.deepEqual([before.runs, before.intervalSeconds], [0, 0]);
      const run = (await op.call('POST', '/api/purge')).json() as {
        result: { isComplete: boolean };
        status: { runs: number };
      };
      assert.equal(run.result.isComplete, true);
      assert.equal(run.status.runs, 1);
      assert.match(
        (await op.call('GET', '/metrics')).body,
        /syncstorage_purge_runs_total\{outcome="ok"\} 1/,
      );
    });

    test('nodes and retire answer 404 without a token server', async () => {
      assert.equal((await op.call('GET', '/api/nodes')).status, 404);
      assert.equal((await op.call('POST', '/api/users/101/retire')).status, 404);
    });

    test('deleting a user’s data removes it from storage and the totals', async () => {
      const res = await op.call('DELETE', '/api/users/101/data');
      assert.equal(res.status, 200);
      assert.deepEqual(await op.storage.getCollectionCounts(101), {});
      assert.equal(await op.storage.getTotalSize(101), 0);
      assert.equal((await op.client(101).get('/info/collections')).body, '{}');
      const users = (await op.call('GET', '/api/users')).json() as {
        users: Array<{ userId: number }>;
      };
      assert.deepEqual(
        users.users.map((u) => u.userId),
        [1025],
      );
    });
  });
}
