/**
 * The token server alone as a Fastify instance (`syncstorage tokenserver`,
 * for many storage nodes): `GET /1.0/sync/1.5` and the load-balancer
 * endpoints (`/__lbheartbeat__`, `/__heartbeat__` with its database,
 * `/__version__`). Unknown paths are 404 with a JSON error body.
 * One log line per request, as the storage app writes it
 * (src/server/logging/request-line.ts).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { requestLineWriter } from '../server/logging/request-line.js';
import { finishedRequest, type RequestObserver } from '../server/request-observer.js';
import type { Tokenserver } from './tokenserver.js';

export interface BuildTokenserverAppOptions {
  tokenserver: Pick<Tokenserver, 'register' | 'healthCheck'>;
  logger?: FastifyBaseLogger;
  version: string;
  /** Told about every answered request (the admin listener's metrics). */
  observer?: RequestObserver;
}

export function buildTokenserverApp(options: BuildTokenserverAppOptions): FastifyInstance {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    childLoggerFactory: (logger) => logger,
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  const requestLine = options.logger ? requestLineWriter(options.logger) : undefined;
  const observer = options.observer;
  if (requestLine || observer) {
    app.addHook('onResponse', (request, reply, done) => {
      observer?.requestFinished(finishedRequest(request, reply));
      requestLine?.(request, reply);
      done();
    });
  }
  const json = (body: unknown) => JSON.stringify(body);
  app.setNotFoundHandler(async (_request, reply) =>
    reply
      .code(404)
      .type('application/json')
      .send(
        json({
          status: 'error',
          errors: [{ location: 'url', name: '', description: 'Not Found' }],
        }),
      ),
  );
  app.get('/__lbheartbeat__', async (_request, reply) => reply.type('application/json').send('{}'));
  app.get('/__heartbeat__', async (_request, reply) => {
    const ok = await options.tokenserver.healthCheck();
    return reply
      .code(ok ? 200 : 503)
      .type('application/json')
      .send(
        json({ status: ok ? 'Ok' : 'Err', version: options.version, database: ok ? 'Ok' : 'Err' }),
      );
  });
  app.get('/__version__', async (_request, reply) =>
    reply
      .type('application/json')
      .send(json({ name: 'syncstorage-ts', version: options.version, source: 'syncstorage-ts' })),
  );
  options.tokenserver.register(app);
  return app;
}
