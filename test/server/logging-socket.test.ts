import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHarness } from './support/server-harness.js';
import { fetchTransport, SyncClient } from '../support/sync-client.js';
import { MASTER_SECRET } from './support/server-harness.js';
import { createLogger } from '../../src/server/logging/logger.js';
import { Writable } from 'node:stream';

describe('request logs', () => {
  test('one JSON line per request, with method, route, status, latency and uid', async () => {
    const h = await createHarness();
    after(() => h.close());
    const client = h.client(31);
    await client.post('/storage/logs', [{ id: 'a', payload: 'SECRET-PAYLOAD' }]);
    await client.get('/storage/logs?full=1');
    await client.get('/nope', { raw: true });
    const lines = h.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = lines.filter((line) => line.msg === 'request');
    assert.equal(requests.length, 3);
    assert.deepEqual(
      requests.map((r) => [r.method, r.route, r.status, r.uid]),
      [
        ['POST', '/1.5/:uid/storage/:collection', 200, 31],
        ['GET', '/1.5/:uid/storage/:collection', 200, 31],
        ['GET', null, 404, null],
      ],
    );
    assert.ok(requests.every((r) => typeof r.latencyMs === 'number'));
    const all = h.logs.join('\n');
    for (const secret of [client.token.id, client.token.key, 'SECRET-PAYLOAD', 'Hawk ', 'mac=']) {
      assert.ok(!all.includes(secret), `logs must not contain ${secret.slice(0, 12)}`);
    }
  });

  test('refused credentials are logged without the header', async () => {
    const h = await createHarness();
    after(() => h.close());
    const client = h.client(32, { durationSeconds: -5 });
    const res = await client.get('/storage/x');
    assert.equal(res.status, 401);
    const all = h.logs.join('\n');
    assert.match(all, /token expired/);
    assert.ok(!all.includes(client.token.id));
  });

  test('redaction removes secrets from any other line', () => {
    const lines: string[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk: Buffer, _e, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    logger.info(
      {
        headers: { authorization: 'Hawk id="tok"' },
        token: 'tok',
        key: 'k3y',
        masterSecret: 'ms',
        payload: 'p',
        nested: { token: 'tok2' },
      },
      'x',
    );
    const line = lines.join('');
    for (const secret of ['Hawk id', '"tok"', 'k3y', '"ms"', '"p"', 'tok2']) {
      assert.ok(!line.includes(secret), secret);
    }
  });
});

describe('over a real socket', () => {
  test('signed requests work end to end; an unbounded body is cut off with 413', async () => {
    const h = await createHarness({ config: { limits: { maxRequestBytes: 10_000 } } });
    after(() => h.close());
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    const client = new SyncClient({
      masterSecret: MASTER_SECRET,
      uid: 41,
      baseUrl,
      transport: fetchTransport(baseUrl),
    });
    const put = await client.put('/storage/sock/a', { payload: 'hello' });
    assert.equal(put.status, 200);
    const got = await client.get('/storage/sock/a');
    assert.equal((got.json() as { payload: string }).payload, 'hello');

    // Chunked, no Content-Length: the limit must hold while streaming.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/1.5/41/storage/sock',
          headers: {
            'content-type': 'application/json',
            authorization: client.authorization('POST', '/1.5/41/storage/sock'),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) =>
        // The server may close the socket as soon as it has answered.
        error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error),
      );
      let sent = 0;
      const chunk = 'x'.repeat(4096);
      const pump = (): void => {
        while (sent < 200_000) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      req.write('[');
      pump();
    });
    assert.equal(status, 413);
  });

  test('close() lets an in-flight request finish', async () => {
    // Close only once the server holds the request (a fixed sleep lost the
    // race on a loaded machine: the request had not arrived yet).
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    const h = await createHarness({
      wrap: (storage) =>
        new Proxy(storage, {
          get(target, prop, receiver) {
            if (prop === 'getCollectionCounts') {
              return async (uid: number) => {
                arrived();
                await new Promise((r) => setTimeout(r, 300));
                return target.getCollectionCounts(uid);
              };
            }
            const value = Reflect.get(target, prop, receiver) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
    });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    const client = new SyncClient({
      masterSecret: MASTER_SECRET,
      uid: 42,
      baseUrl,
      transport: fetchTransport(baseUrl),
    });
    const slow = client.get('/info/collection_counts');
    await inFlight;
    const closing = h.close();
    const res = await slow;
    assert.equal(res.status, 200);
    await closing;
    await assert.rejects(fetch(`${baseUrl}/__lbheartbeat__`));
  });
});
