/**
 * The admin listener's guard: `Authorization: Bearer <admin token>` on every
 * request, compared in constant time (SHA-256 of both sides, so lengths
 * never leak either, then `timingSafeEqual`). Anything else is 401 with
 * `WWW-Authenticate: Bearer`, before any route runs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Whether `header` carries exactly this token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer ([^\s]+)\s*$/i.exec(header ?? '');
  // Always compare, so a missing header takes as long as a wrong one.
  const given = digest(match?.[1] ?? '');
  return timingSafeEqual(given, digest(token)) && match !== null;
}

export function adminAuthHook(token: string) {
  if (token.length < 16) throw new RangeError('the admin token must be at least 16 characters');
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (bearerMatches(request.headers.authorization, token)) {
      done();
      return;
    }
    request.log.warn({ path: request.routeOptions.url ?? null }, 'admin request refused');
    void reply
      .code(401)
      .header('WWW-Authenticate', 'Bearer realm="syncstorage admin"')
      .send({ error: 'unauthorized', message: 'Authorization: Bearer <admin token> required' });
  };
}
