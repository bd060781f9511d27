/**
 * `buildAdminApp(options)`: the operator's listener, a Fastify instance of
 * its own (never routes on the public one): `GET /metrics`, the JSON API and
 * the admin page. Every route but the page's static files needs the admin
 * token (`admin-auth.ts`).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { adminAuthHook } from './admin-auth.js';
import { registerAdminPage } from './admin-page.js';
import { registerAdminRoutes, type AdminRouteDeps } from './admin-routes.js';

export interface BuildAdminAppOptions extends AdminRouteDeps {
  token: string;
  logger?: FastifyBaseLogger;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs no admin token (the page's static files). */
    public?: boolean;
  }
}

export function buildAdminApp(options: BuildAdminAppOptions): FastifyInstance {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: 64 * 1024,
  }) as unknown as FastifyInstance;
  const guard = adminAuthHook(options.token);
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config?.public === true) {
      done();
      return;
    }
    guard(request, reply, done);
  });
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await options.metrics.exposition();
    return reply.type(contentType).send(body);
  });
  registerAdminRoutes(app, options);
  registerAdminPage(app);
  return app;
}
