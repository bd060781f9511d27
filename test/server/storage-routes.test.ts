import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, SERVER_BACKENDS, type Harness } from './support/server-harness.js';
import type { SyncClient } from '../support/sync-client.js';

const TS = /^\d+\.\d{2}$/;

for (const backend of SERVER_BACKENDS) {
  describe(`storage routes (${backend})`, () => {
    let h: Harness;
    let client: SyncClient;
    before(async () => {
      h = await createHarness({ backend });
      client = h.client(101);
    });
    after(() => h.close());

    test('a missing collection lists as [] and every response has X-Weave-Timestamp', async () => {
      const res = await client.get('/storage/nothing');
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), []);
      assert.match(res.headers['x-weave-timestamp'] ?? '', TS);
      assert.equal(res.headers['x-weave-records'], '0');
    });

    test('POST writes items; GET lists ids and full BSOs without ttl', async () => {
      const post = await client.post('/storage/bookmarks', [
        { id: 'a', payload: 'pa', sortindex: 3 },
        { id: 'b', payload: 'pb', ttl: 3600 },
        { id: 'c', payload: 'pc', sortindex: 1 },
      ]);
      assert.equal(post.status, 200);
      const body = post.json() as { modified: number; success: string[]; failed: object };
      assert.deepEqual(body.success, ['a', 'b', 'c']);
      assert.deepEqual(body.failed, {});
      assert.equal(post.headers['x-last-modified'], body.modified.toFixed(2));
      assert.equal(post.headers['x-weave-timestamp'], body.modified.toFixed(2));

      const ids = await client.get('/storage/bookmarks');
      assert.deepEqual((ids.json() as string[]).sort(), ['a', 'b', 'c']);
      assert.equal(ids.headers['x-weave-records'], '3');
      assert.equal(ids.headers['x-last-modified'], body.modified.toFixed(2));

      const full = await client.get('/storage/bookmarks?full=1&sort=index');
      const items = full.json() as Array<Record<string, unknown>>;
      assert.deepEqual(
        items.map((i) => i.id),
        ['a', 'c', 'b'],
      );
      assert.deepEqual(items[0], { id: 'a', modified: body.modified, payload: 'pa', sortindex: 3 });
      assert.ok(items.every((i) => !('ttl' in i) && !('expiry' in i)));
    });

    test('GET with limit pages with X-Weave-Next-Offset', async () => {
      const first = await client.get('/storage/bookmarks?limit=2&sort=index');
      assert.deepEqual(first.json(), ['a', 'c']);
      const offset = first.headers['x-weave-next-offset'];
      assert.ok(offset);
      const second = await client.get(
        `/storage/bookmarks?limit=2&sort=index&offset=${encodeURIComponent(offset)}`,
      );
      assert.deepEqual(second.json(), ['b']);
      assert.equal(second.headers['x-weave-next-offset'], undefined);
    });

    test('newer, older and ids filter', async () => {
      await new Promise((r) => setTimeout(r, 20));
      const later = await client.post('/storage/bookmarks', [{ id: 'd', payload: 'pd' }]);
      const at = (later.json() as { modified: number }).modified;
      const newer = await client.get(`/storage/bookmarks?newer=${(at - 0.01).toFixed(2)}`);
      assert.deepEqual(newer.json(), ['d']);
      const older = await client.get(`/storage/bookmarks?older=${at.toFixed(2)}`);
      assert.deepEqual((older.json() as string[]).sort(), ['a', 'b', 'c']);
      const some = await client.get('/storage/bookmarks?ids=a,d,zz');
      assert.deepEqual((some.json() as string[]).sort(), ['a', 'd']);
    });

    test('application/newlines both ways', async () => {
      const post = await client.request('POST', '/storage/history', {
        body: '{"id":"n1","payload":"line\\none"}\n{"id":"n2","payload":"two"}\n',
        contentType: 'application/newlines',
      });
      assert.equal(post.status, 200);
      assert.deepEqual((post.json() as { success: string[] }).success, ['n1', 'n2']);
      const res = await client.get('/storage/history?full=1&sort=oldest', {
        headers: { accept: 'application/newlines' },
      });
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'] ?? '', /application\/newlines/);
      const lines = res.body.split('\n');
      assert.equal(lines.length, 3);
      assert.equal(lines[2], '');
      const parsed = lines.slice(0, 2).map((l) => JSON.parse(l) as { id: string; payload: string });
      assert.deepEqual(parsed.map((b) => b.id).sort(), ['n1', 'n2']);
      assert.ok(parsed.some((b) => b.payload === 'line\none'));
    });

    test('an unsupported Accept is 406', async () => {
      const res = await client.get('/storage/history', { headers: { accept: 'text/html' } });
      assert.equal(res.status, 406);
    });

    test('PUT creates, keeps fields not sent, and returns the timestamp', async () => {
      const put = await client.put('/storage/prefs/p1', { payload: 'one', sortindex: 5 });
      assert.equal(put.status, 200);
      assert.match(put.body, TS);
      assert.equal(put.headers['x-last-modified'], put.body);
      const touch = await client.put('/storage/prefs/p1', { sortindex: 9 });
      assert.equal(touch.status, 200);
      const got = await client.get('/storage/prefs/p1');
      assert.equal(got.status, 200);
      const bso = got.json() as { payload: string; sortindex: number; modified: number };
      assert.equal(bso.payload, 'one');
      assert.equal(bso.sortindex, 9);
      // The seed's rule: an update without payload leaves the item's
      // `modified` alone; the write itself still gets a new timestamp.
      assert.equal(bso.modified.toFixed(2), put.body);
      assert.equal(got.headers['x-last-modified'], put.body);
      assert.ok(Number(touch.body) > Number(put.body));
    });

    test('GET of a missing item is 404 with body 0', async () => {
      for (const path of ['/storage/prefs/none', '/storage/nocoll/none']) {
        const res = await client.get(path);
        assert.equal(res.status, 404, path);
        assert.equal(res.body, '0');
      }
    });

    test('X-If-Modified-Since gives 304 when not newer', async () => {
      const got = await client.get('/storage/prefs/p1');
      const lm = got.headers['x-last-modified']!;
      const item = await client.get('/storage/prefs/p1', {
        headers: { 'x-if-modified-since': lm },
      });
      assert.equal(item.status, 304);
      assert.equal(item.body, '');
      const collLm = (await client.get('/storage/prefs')).headers['x-last-modified']!;
      const coll = await client.get('/storage/prefs', {
        headers: { 'x-if-modified-since': collLm },
      });
      assert.equal(coll.status, 304);
      const older = (Number(collLm) - 1).toFixed(2);
      const fresh = await client.get('/storage/prefs', {
        headers: { 'x-if-modified-since': older },
      });
      assert.equal(fresh.status, 200);
      const info = await client.get('/info/collections', {
        headers: { 'x-if-modified-since': '9999999999.00' },
      });
      assert.equal(info.status, 304);
    });

    test('X-If-Unmodified-Since gives 412 on a newer resource and writes nothing', async () => {
      const lm = (await client.get('/storage/prefs')).headers['x-last-modified']!;
      const stale = (Number(lm) - 1).toFixed(2);
      const post = await client.post('/storage/prefs', [{ id: 'p2', payload: 'x' }], {
        headers: { 'x-if-unmodified-since': stale },
      });
      assert.equal(post.status, 412);
      const put = await client.put(
        '/storage/prefs/p1',
        { payload: 'y' },
        { headers: { 'x-if-unmodified-since': stale } },
      );
      assert.equal(put.status, 412);
      const del = await client.delete('/storage/prefs', {
        headers: { 'x-if-unmodified-since': stale },
      });
      assert.equal(del.status, 412);
      assert.deepEqual(await (await client.get('/storage/prefs')).json(), ['p1']);
      const ok = await client.post('/storage/prefs', [{ id: 'p2', payload: 'x' }], {
        headers: { 'x-if-unmodified-since': lm },
      });
      assert.equal(ok.status, 200);
    });

    test('both precondition headers, or a bad value, is 400', async () => {
      const both = await client.get('/storage/prefs', {
        headers: { 'x-if-modified-since': '1.00', 'x-if-unmodified-since': '1.00' },
      });
      assert.equal(both.status, 400);
      const bad = await client.get('/storage/prefs', { headers: { 'x-if-modified-since': 'x' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body, '1');
    });

    test('POST sorts invalid items and items over the limits into failed', async () => {
      const h2 = await createHarness({
        backend,
        config: { limits: { maxPostRecords: 3, maxPostBytes: 10 } },
      });
      const c2 = h2.client(7);
      after(() => h2.close());
      const res = await c2.post('/storage/forms', [
        { id: 'ok', payload: '12345' },
        { id: 'bad', payload: 5 },
        { id: 'big', payload: '1234567890' },
        { id: 'late', payload: '1' },
        { id: 'wrongfield', payload: '1', foo: 1 },
      ]);
      assert.equal(res.status, 200);
      const body = res.json() as { success: string[]; failed: Record<string, string> };
      assert.deepEqual(body.success, ['ok']);
      assert.deepEqual(Object.keys(body.failed).sort(), ['bad', 'big', 'late', 'wrongfield']);
      assert.equal(body.failed.big, 'retry bytes');
      assert.equal(body.failed.late, 'retry bso');
    });

    test('DELETE items by ids, a collection, an item', async () => {
      await client.post('/storage/tabs', [
        { id: 't1', payload: '1' },
        { id: 't2', payload: '2' },
        { id: 't3', payload: '3' },
      ]);
      const some = await client.delete('/storage/tabs?ids=t1,t2');
      assert.equal(some.status, 200);
      assert.match(String((some.json() as { modified: number }).modified), /^\d+(\.\d+)?$/);
      assert.deepEqual((await client.get('/storage/tabs')).json(), ['t3']);
      const one = await client.delete('/storage/tabs/t3');
      assert.equal(one.status, 200);
      assert.equal((await client.delete('/storage/tabs/t3')).status, 404);
      const all = await client.delete('/storage/tabs');
      assert.equal(all.status, 200);
      assert.deepEqual((await client.get('/storage/tabs')).json(), []);
      const missing = await client.delete('/storage/never-there');
      assert.equal(missing.status, 200);
    });

    test('DELETE /storage and DELETE /1.5/{uid} remove everything', async () => {
      const other = h.client(202);
      await other.post('/storage/a', [{ id: 'x', payload: '1' }]);
      assert.equal((await other.delete('/storage')).status, 200);
      assert.deepEqual((await other.get('/info/collections')).json(), {});
      await other.post('/storage/a', [{ id: 'x', payload: '1' }]);
      assert.equal((await other.delete('')).status, 200);
      assert.deepEqual((await other.get('/info/collections')).json(), {});
    });

    test('users do not see each other’s data', async () => {
      const a = h.client(301);
      const b = h.client(302);
      await a.post('/storage/secret', [{ id: 's', payload: 'mine' }]);
      assert.deepEqual((await b.get('/storage/secret')).json(), []);
      assert.equal((await b.get('/storage/secret/s')).status, 404);
    });
  });
}
