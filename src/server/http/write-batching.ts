/**
 * Responses finished in the same event-loop turn leave together.
 *
 * Under load one turn answers many requests (every socket that became
 * readable). Written one by one, each response can wake a client that went
 * to sleep after the previous one; on a virtual machine a wake-up costs more
 * than the whole response (bench/README.md: 28 µs of `writev` per response
 * against 7 µs when the client is already awake). Corking each socket when
 * its response starts and uncorking all of them once the turn's I/O is done
 * (`setImmediate`) sends the turn's responses as one burst. A response that
 * comes in a later turn (after a database round trip) is corked only until
 * the end of that turn: latency grows by at most the rest of the turn.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export function batchWritesPerTurn(app: FastifyInstance): void {
  const corked = new Set<Socket>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const socket of corked) socket.uncork();
    corked.clear();
  };
  app.addHook('onSend', (request, _reply, payload, done) => {
    const { socket } = request.raw;
    // `app.inject()` requests have a mock socket that cannot cork.
    if (typeof socket.cork === 'function' && !corked.has(socket)) {
      socket.cork();
      corked.add(socket);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    }
    done(null, payload);
  });
}
