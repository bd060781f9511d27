/**
 * Issue 13, "many processes, one truth": several `serve` processes on one
 * database, as the README's production section tells operators to run them.
 * Real processes (scripts/drill-process.ts), real PostgreSQL and memcached.
 *
 * - In-process caches only where one process owns the data: a second such
 *   process on one PostgreSQL, or a second serve on one SQLite file, refuses
 *   to start with one line naming --memcached and --cache none.
 * - memcached restarted while one process still thinks it down: a write it
 *   acknowledges is seen by the other process, and a precondition there is
 *   decided against the truth (no lost update).
 * - After memcached returns, writes (refused while it was away) are accepted
 *   again within a few seconds: the default dead-server interval is short.
 * - A Hawk request replayed on another process is refused (nonces in memcached).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startMemcached,
  startPostgres,
  type MemcachedServer,
  type PostgresServer,
} from '@syncstorage-ts/test-support';
import { startDrillServer, type DrillServer } from '../../scripts/drill-process.js';
import { SyncClient, type SyncResponse, type TransportRequest } from '../support/sync-client.js';

const secret = randomBytes(16).toString('hex');

/** node:http, which (unlike fetch) sends the Host header it is given: the MAC covers it. */
function transportTo(baseUrl: string) {
  const target = new URL(baseUrl);
  return (request: TransportRequest): Promise<SyncResponse> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined)
                headers[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({
              status: res.statusCode ?? 0,
              headers,
              body,
              json: () => JSON.parse(body) as unknown,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(request.body);
    });
}

/** One user's client whose requests go to `server` (all signed for one public origin). */
function clientOf(server: DrillServer, uid: number): SyncClient {
  return new SyncClient({
    masterSecret: secret,
    uid,
    baseUrl: 'http://sync.example:8000',
    transport: transportTo(server.url),
  });
}

let uidSeq = 100 + Math.floor(Math.random() * 1000);

describe('several serve processes on one database', () => {
  let pg: PostgresServer;
  let mc: MemcachedServer;
  const servers: DrillServer[] = [];
  const start = async (args: string[]): Promise<DrillServer> => {
    const server = await startDrillServer(args, secret);
    servers.push(server);
    return server;
  };
  before(async () => {
    [pg, mc] = await Promise.all([startPostgres(), startMemcached()]);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.kill9()));
    await Promise.all([pg?.stop(), mc?.stop()]);
  });

  test('a second in-process-cache serve on one PostgreSQL refuses to start, naming --memcached and --cache none', async () => {
    const url = await pg.createDatabase('owned');
    const first = await start(['--database', url]);
    await assert.rejects(start(['--database', url]), /--memcached[^\n]*--cache none/);
    // Nor may a memcached process write under the owner's in-process cache.
    await assert.rejects(start(['--database', url, '--memcached', mc.address]), /in-process cache/);
    await first.stop();
    const again = await start(['--database', url]);
    await again.stop();
  });

  test('a second serve on one SQLite file refuses to start', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sync-owned-')), 'sync.db');
    const first = await start(['--database', `sqlite:${file}`]);
    await assert.rejects(start(['--database', `sqlite:${file}`]), /--memcached[^\n]*--cache none/);
    await first.stop();
  });

  test('memcached restarted: a write one process acknowledges is what the other reads; no lost update', async () => {
    const url = await pg.createDatabase('shared');
    const flags = ['--database', url, '--memcached', mc.address];
    const [a, b] = [await start(flags), await start(flags)];
    const uid = uidSeq++;
    const viaA = clientOf(a, uid);
    const viaB = clientOf(b, uid);
    const v1 = await viaA.put('/storage/meta/global', { payload: 'v1' });
    assert.equal(v1.status, 200);
    const t1 = v1.headers['x-last-modified'] as string;
    assert.equal((await viaB.get('/storage/meta/global')).status, 200); // B caches v1

    await mc.kill();
    // A notices (its client marks the server dead for the retry interval).
    for (let i = 0; i < 3; i++) await viaA.get('/info/collections');
    await mc.start();
    // B reconnects and caches v1 again from the database.
    for (let i = 0; ; i++) {
      const health = (await (await fetch(`${b.url}/__heartbeat__`)).json()) as { cache?: string };
      if (health.cache === 'Ok') break;
      assert.ok(i < 100, 'B reconnects to memcached');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const read = await viaB.get('/storage/meta/global');
    assert.equal((read.json() as { payload: string }).payload, 'v1');

    const v2 = await viaA.put(
      '/storage/meta/global',
      { payload: 'v2' },
      { headers: { 'x-if-unmodified-since': t1 } },
    );
    if (v2.status === 200) {
      const seen = await viaB.get('/storage/meta/global');
      assert.equal(
        (seen.json() as { payload: string }).payload,
        'v2',
        'B reads the acknowledged write',
      );
    } else {
      assert.equal(v2.status, 503, v2.body);
      assert.ok(Number(v2.headers['retry-after']) > 0, 'Retry-After');
      const seen = await viaB.get('/storage/meta/global');
      assert.equal(
        (seen.json() as { payload: string }).payload,
        'v1',
        'a refused write wrote nothing',
      );
    }
    // A client of B that read v1 tries to overwrite with the old precondition.
    const stale = await viaB.put(
      '/storage/meta/global',
      { payload: 'from B' },
      { headers: { 'x-if-unmodified-since': t1 } },
    );
    assert.equal(stale.status, v2.status === 200 ? 412 : 200, stale.body);
  });

  test('memcached restarted: writes are accepted again within a few seconds (default retry interval)', async () => {
    const url = await pg.createDatabase('recovery');
    const a = await start(['--database', url, '--memcached', mc.address]);
    const viaA = clientOf(a, uidSeq++);
    assert.equal((await viaA.put('/storage/meta/global', { payload: 'v1' })).status, 200);
    await mc.kill();
    // A marks the server dead; with fail-closed writes it refuses them meanwhile.
    for (let i = 0; i < 3; i++) await viaA.put('/storage/meta/global', { payload: 'down' });
    await mc.start();
    const back = Date.now();
    for (;;) {
      const put = await viaA.put('/storage/meta/global', { payload: 'v2' });
      if (put.status === 200) break;
      assert.equal(put.status, 503, put.body);
      assert.ok(Date.now() - back < 5000, 'a write succeeds within 5 s of memcached returning');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  test('a Hawk request replayed on another process is refused', async () => {
    const url = await pg.createDatabase('nonces');
    const flags = ['--database', url, '--memcached', mc.address];
    const [a, b] = [await start(flags), await start(flags)];
    const uid = uidSeq++;
    const viaA = clientOf(a, uid);
    const path = `/1.5/${uid}/info/collections`;
    const authorization = viaA.authorization('GET', path);
    const headers = { host: 'sync.example:8000', authorization };
    const first = await transportTo(a.url)({ method: 'GET', url: path, headers });
    assert.equal(first.status, 200, first.body);
    const replayA = await transportTo(a.url)({ method: 'GET', url: path, headers });
    assert.equal(replayA.status, 401, 'replay on the same process');
    const replayB = await transportTo(b.url)({ method: 'GET', url: path, headers });
    assert.equal(replayB.status, 401, 'replay on another process');
  });
});
