/**
 * `GET /1.0/:application/:version` as a Fastify plugin. Only `sync/1.5`
 * exists; anything else is Mozilla's 404 JSON error. Every answer, errors
 * included, is JSON (Firefox's TokenServerClient treats anything else as a
 * misconfigured server), with `X-Timestamp` (seconds) and
 * `X-Content-Type-Options: nosniff` on success as syncstorage-rs sends them.
 * The error handler of this plugin's scope maps every error to the JSON
 * body; a stack trace is logged, never sent.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { StorageError } from '../storage/errors.js';
import type { TokenIssuer } from './token-issuer.js';
import { TokenserverError, tokenserverErrors } from './tokenserver-errors.js';
import type { TokenserverObserver } from './tokenserver-observer.js';

export interface TokenserverRoutesOptions {
  issuer: TokenIssuer;
  retryAfterSeconds: number;
  /** Milliseconds since the epoch (X-Timestamp). Default `Date.now`. */
  clock?: () => number;
  observer?: Pick<TokenserverObserver, 'tokenIssued' | 'tokenRefused'>;
}

function sendError(reply: FastifyReply, error: TokenserverError, retryAfter: number) {
  if (error.httpStatus === 503) reply.header('Retry-After', String(retryAfter));
  return reply.code(error.httpStatus).type('application/json').send(JSON.stringify(error.body()));
}

export async function tokenserverRoutes(
  app: FastifyInstance,
  options: TokenserverRoutesOptions,
): Promise<void> {
  const { issuer, retryAfterSeconds, observer } = options;
  const clock = options.clock ?? Date.now;

  app.setErrorHandler(async (error, request, reply) => {
    let known: TokenserverError;
    if (error instanceof TokenserverError) {
      known = error;
    } else if (error instanceof StorageError && error.code !== 'INVALID_INPUT') {
      // Database down, or the write connection not had in time.
      known = tokenserverErrors.unavailable(error.message);
    } else {
      request.log.error({ reqId: request.id, err: error }, 'token server internal error');
      known = tokenserverErrors.internal('unexpected error');
    }
    if (known.httpStatus >= 500) {
      request.log.warn({ reqId: request.id, reason: known.context }, 'token server unavailable');
    }
    observer?.tokenRefused(known.status, known.httpStatus);
    return sendError(reply, known, retryAfterSeconds);
  });

  app.get<{
    Params: { application: string; version: string };
    Querystring: { duration?: unknown };
  }>('/1.0/:application/:version', async (request, reply) => {
    const { application, version } = request.params;
    if (application !== 'sync') throw tokenserverErrors.unsupportedApplication();
    if (version !== '1.5') throw tokenserverErrors.unsupportedVersion(version);
    const { headers } = request;
    const answer = await issuer.issue({
      authorization: headers.authorization,
      keyId: headers['x-keyid'],
      clientState: headers['x-client-state'],
      duration: request.query.duration,
    });
    observer?.tokenIssued();
    return reply
      .header('X-Timestamp', String(Math.floor(clock() / 1000)))
      .header('X-Content-Type-Options', 'nosniff')
      .type('application/json')
      .send(JSON.stringify(answer));
  });

  app.route({
    method: ['POST', 'PUT', 'DELETE', 'PATCH'],
    url: '/1.0/:application/:version',
    handler: async () => {
      throw tokenserverErrors.methodNotAllowed();
    },
  });
}
