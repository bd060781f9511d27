/** Responses of one event-loop turn leave together (src/server/http/write-batching.ts), over real sockets. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { batchWritesPerTurn } from '../../src/server/http/write-batching.js';

async function serve() {
  const app = Fastify({ logger: false });
  batchWritesPerTurn(app);
  const corkedAtSend: number[] = [];
  const corkedNextTurn: number[] = [];
  app.addHook('onSend', (request, _reply, payload, done) => {
    const { socket } = request.raw;
    corkedAtSend.push(socket.writableCorked);
    // Scheduled after the batch's flush, so it sees the socket after it.
    setImmediate(() => corkedNextTurn.push(socket.writableCorked));
    done(null, payload);
  });
  app.get('/now', async () => ({ ok: true }));
  app.get('/later', async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { ok: 'later' };
  });
  const big = 'x'.repeat(2 * 1024 * 1024);
  app.get('/big', async () => big);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { app, base: `http://127.0.0.1:${port}`, corkedAtSend, corkedNextTurn, big };
}

describe('write batching per event-loop turn', () => {
  test('a response is corked while its turn lasts and flushed after it', async () => {
    const s = await serve();
    try {
      const res = await fetch(`${s.base}/now`);
      assert.deepEqual(await res.json(), { ok: true });
      assert.deepEqual(s.corkedAtSend, [1]);
      assert.deepEqual(s.corkedNextTurn, [0]);
    } finally {
      await s.app.close();
    }
  });

  test('many concurrent requests, answered now, later or large, all arrive whole', async () => {
    const s = await serve();
    try {
      const paths = Array.from({ length: 60 }, (_, i) => ['/now', '/later', '/big'][i % 3]!);
      const bodies = await Promise.all(
        paths.map(async (path) => (await fetch(`${s.base}${path}`)).text()),
      );
      paths.forEach((path, i) => {
        if (path === '/big') assert.equal(bodies[i], s.big);
        else assert.deepEqual(JSON.parse(bodies[i]!), { ok: path === '/now' ? true : 'later' });
      });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(s.corkedNextTurn.length, paths.length);
      assert.ok(
        s.corkedNextTurn.every((n) => n === 0),
        'no socket is left corked',
      );
    } finally {
      await s.app.close();
    }
  });

  test('app.inject() requests (a mock socket without cork) are answered as before', async () => {
    const app = Fastify({ logger: false });
    batchWritesPerTurn(app);
    app.get('/now', async () => ({ ok: true }));
    const res = await app.inject({ method: 'GET', url: '/now' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { ok: true });
    await app.close();
  });
});
