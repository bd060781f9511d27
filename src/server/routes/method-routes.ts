/**
 * 405 for a known path with a method it does not take, and CORS (API.md
 * "Paths": a wrong method is 405; preflight is answered). Registered outside
 * the authenticated scope: neither needs credentials.
 */
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import { HttpError } from '../errors/weave-errors.js';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/** Every path of the API and the methods it takes (HEAD comes with GET). */
export const API_ROUTES: ReadonlyArray<[string, readonly string[]]> = [
  ['/1.5/:uid', ['DELETE']],
  ['/1.5/:uid/storage', ['DELETE']],
  ['/1.5/:uid/info/collections', ['GET']],
  ['/1.5/:uid/info/quota', ['GET']],
  ['/1.5/:uid/info/collection_usage', ['GET']],
  ['/1.5/:uid/info/collection_counts', ['GET']],
  ['/1.5/:uid/info/configuration', ['GET']],
  ['/1.5/:uid/storage/:collection', ['GET', 'POST', 'DELETE']],
  ['/1.5/:uid/storage/:collection/:id', ['GET', 'PUT', 'DELETE']],
  ['/__heartbeat__', ['GET']],
  ['/__lbheartbeat__', ['GET']],
  ['/__version__', ['GET']],
];

const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'X-If-Modified-Since',
  'X-If-Unmodified-Since',
  'X-Weave-Records',
  'X-Weave-Bytes',
  'X-Weave-Total-Records',
  'X-Weave-Total-Bytes',
].join(', ');

export const EXPOSED_HEADERS = [
  'X-Weave-Timestamp',
  'X-Last-Modified',
  'X-Weave-Records',
  'X-Weave-Next-Offset',
  'X-Weave-Quota-Remaining',
  'Retry-After',
].join(', ');

export function registerMethodRoutes(app: FastifyInstance): void {
  for (const [url, allowed] of API_ROUTES) {
    const others = METHODS.filter((m) => !allowed.includes(m));
    const allow = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
    app.route({
      method: others,
      url,
      // Answered in onRequest, before Fastify reads (and parses) the body:
      // a PATCH with a JSON type and a broken body is 405, not 400.
      onRequest: (_request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
        reply.header('Allow', allow);
        done(new HttpError('METHOD_NOT_ALLOWED'));
      },
      handler: async () => {
        throw new HttpError('METHOD_NOT_ALLOWED');
      },
    });
  }

  app.options('*', async (request, reply) => {
    reply
      .header('Access-Control-Allow-Origin', request.headers.origin ?? '*')
      .header('Access-Control-Allow-Methods', 'GET, HEAD, POST, PUT, DELETE, OPTIONS')
      .header('Access-Control-Allow-Headers', ALLOWED_HEADERS)
      .header('Access-Control-Expose-Headers', EXPOSED_HEADERS)
      .header('Access-Control-Max-Age', '1728000')
      .header('Vary', 'Origin');
    return reply.code(204).send();
  });
}
