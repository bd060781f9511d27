import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, SERVER_BACKENDS, type Harness } from './support/server-harness.js';

for (const backend of SERVER_BACKENDS) {
  describe(`info routes (${backend})`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ backend });
    });
    after(() => h.close());

    test('collections, counts, usage, quota and configuration', async () => {
      const client = h.client(11);
      const empty = await client.get('/info/collections');
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.json(), {});
      assert.equal(empty.headers['x-weave-records'], '0');

      const a = await client.post('/storage/bookmarks', [
        { id: 'a', payload: 'x'.repeat(1024) },
        { id: 'b', payload: 'y'.repeat(1024) },
      ]);
      const b = await client.post('/storage/history', [{ id: 'h', payload: 'z'.repeat(512) }]);
      const tsA = (a.json() as { modified: number }).modified;
      const tsB = (b.json() as { modified: number }).modified;

      const collections = await client.get('/info/collections');
      assert.deepEqual(collections.json(), { bookmarks: tsA, history: tsB });
      assert.equal(collections.headers['x-weave-records'], '2');
      assert.equal(collections.headers['x-last-modified'], Math.max(tsA, tsB).toFixed(2));

      assert.deepEqual((await client.get('/info/collection_counts')).json(), {
        bookmarks: 2,
        history: 1,
      });
      assert.deepEqual((await client.get('/info/collection_usage')).json(), {
        bookmarks: 2,
        history: 0.5,
      });
      assert.deepEqual((await client.get('/info/quota')).json(), [2.5, null]);
      assert.deepEqual((await client.get('/info/configuration')).json(), {
        max_request_bytes: 2_625_536,
        max_post_records: 100,
        max_post_bytes: 2_621_440,
        max_total_records: 10_000,
        max_total_bytes: 262_144_000,
        max_record_payload_bytes: 2_621_440,
      });
    });

    test('quota: X-Weave-Quota-Remaining below 1 MB, then 403 code 14', async () => {
      const q = await createHarness({ backend, config: { quotaBytes: 1024 * 1024 + 2048 } });
      after(() => q.close());
      const client = q.client(12);
      assert.deepEqual((await client.get('/info/quota')).json(), [0, 1026]);
      const first = await client.post('/storage/a', [{ id: 'a', payload: 'x'.repeat(4096) }]);
      assert.equal(first.status, 200);
      assert.equal(first.headers['x-weave-quota-remaining'], String(1026 - 4));
      const big = 'y'.repeat(1024 * 1024);
      const second = await client.put('/storage/a/b', { payload: big });
      assert.equal(second.status, 200);
      const over = await client.post('/storage/a', [{ id: 'c', payload: 'z' }]);
      assert.equal(over.status, 403);
      assert.equal(over.body, '14');
      const overPut = await client.put('/storage/a/d', { payload: 'z' });
      assert.equal(overPut.status, 403);
      // Deleting still works, and frees space (the cached layer recounts a
      // user's size at most once per interval, seed 000, so not at once there).
      assert.equal((await client.delete('/storage/a/b')).status, 200);
      if (backend !== 'cached') {
        assert.equal((await client.post('/storage/a', [{ id: 'c', payload: 'z' }])).status, 200);
      }
    });
  });

  describe(`per-user quota (${backend})`, () => {
    test('a user’s own quota overrides the global one in 403 code 14, the header and info/quota', async () => {
      const q = await createHarness({ backend, config: { quotaBytes: 100 * 1024 * 1024 } });
      after(() => q.close());
      const [small, other] = [q.client(31), q.client(32)];
      await q.storage.setUserQuota(31, 8 * 1024);
      assert.deepEqual((await small.get('/info/quota')).json(), [0, 8]);
      const first = await small.post('/storage/a', [{ id: 'a', payload: 'x'.repeat(5 * 1024) }]);
      assert.equal(first.status, 200);
      assert.equal(first.headers['x-weave-quota-remaining'], '3');
      assert.equal((await small.put('/storage/a/b', { payload: 'y'.repeat(4096) })).status, 200);
      const over = await small.post('/storage/a', [{ id: 'c', payload: 'z' }]);
      assert.equal(over.status, 403);
      assert.equal(over.body, '14');
      // Others keep the global quota, far away.
      const theirs = await other.post('/storage/a', [{ id: 'a', payload: 'x'.repeat(20 * 1024) }]);
      assert.equal(theirs.status, 200);
      assert.equal(theirs.headers['x-weave-quota-remaining'], undefined);
      // Raised again, the user writes.
      await q.storage.setUserQuota(31, 1024 * 1024 * 1024);
      assert.equal((await small.post('/storage/a', [{ id: 'c', payload: 'z' }])).status, 200);
    });
  });

  describe(`batches (${backend})`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ backend });
    });
    after(() => h.close());

    test('open, append, commit: items appear together at one timestamp', async () => {
      const client = h.client(21);
      const open = await client.post('/storage/bookmarks?batch=true', [{ id: 'a', payload: '1' }]);
      assert.equal(open.status, 202);
      const { batch, success } = open.json() as { batch: string; success: string[] };
      assert.equal(typeof batch, 'string');
      assert.deepEqual(success, ['a']);
      const id = encodeURIComponent(batch);
      const append = await client.post(`/storage/bookmarks?batch=${id}`, [
        { id: 'b', payload: '2' },
        { id: 'bad', payload: 3 },
      ]);
      assert.equal(append.status, 202);
      assert.deepEqual((append.json() as { failed: object }).failed, { bad: 'invalid payload' });
      assert.deepEqual((await client.get('/storage/bookmarks')).json(), [], 'not visible yet');

      const commit = await client.post(`/storage/bookmarks?batch=${id}&commit=true`, [
        { id: 'c', payload: '3' },
      ]);
      assert.equal(commit.status, 200);
      const done = commit.json() as { modified: number; success: string[] };
      assert.deepEqual(done.success, ['c']);
      const items = (await client.get('/storage/bookmarks?full=1')).json() as Array<{
        id: string;
        modified: number;
      }>;
      assert.deepEqual(items.map((i) => i.id).sort(), ['a', 'b', 'c']);
      assert.ok(items.every((i) => i.modified === done.modified));

      const reused = await client.post(`/storage/bookmarks?batch=${id}&commit=true`, []);
      assert.equal(reused.status, 400, 'a committed batch is closed');
    });

    test('batch=true&commit=true is a plain POST', async () => {
      const client = h.client(22);
      const res = await client.post('/storage/tabs?batch=true&commit=true', [
        { id: 't', payload: '1' },
      ]);
      assert.equal(res.status, 200);
      assert.deepEqual((await client.get('/storage/tabs')).json(), ['t']);
    });

    test('bad batch requests are 400', async () => {
      const client = h.client(23);
      const other = h.client(24);
      const open = await client.post('/storage/forms?batch=true', []);
      const id = encodeURIComponent((open.json() as { batch: string }).batch);
      for (const [c, path] of [
        [client, '/storage/forms?commit=true'],
        [client, `/storage/forms?batch=${id}&commit=yes`],
        [client, '/storage/forms?batch=nonsense'],
        [client, `/storage/other?batch=${id}`],
        [other, `/storage/forms?batch=${id}`],
      ] as const) {
        const res = await c.post(path, [{ id: 'x', payload: '1' }]);
        assert.equal(res.status, 400, path);
      }
    });
  });
}
