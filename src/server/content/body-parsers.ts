/**
 * Request bodies (API.md "Content types"): `application/json` and
 * `text/plain` carry JSON; `application/newlines` one JSON object per line.
 * Any other type is refused by Fastify with 415. Fastify enforces
 * `bodyLimit` from Content-Length before reading and while streaming, so an
 * oversize body is never buffered whole (413). A body whose Hawk payload
 * hash (sent by the client, checked by the auth hook's caller here, before
 * parsing) does not match is 401.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { macEquals, payloadHash } from '../auth/hawk.js';
import { HttpError } from '../errors/weave-errors.js';
import { parseNewlines } from './newlines.js';

/** A parsed body: which syntax it came in, and its value. */
export type RequestBody = { kind: 'json'; value: unknown } | { kind: 'newlines'; value: unknown[] };

export function registerBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'text/plain'],
    { parseAs: 'string', bodyLimit },
    (request, body, done) => {
      const tampered = payloadMismatch(request, body as string);
      if (tampered) {
        done(tampered, undefined);
        return;
      }
      try {
        done(null, { kind: 'json', value: JSON.parse(body as string) } satisfies RequestBody);
      } catch {
        done(new HttpError('MALFORMED_JSON'), undefined);
      }
    },
  );
  app.addContentTypeParser(
    'application/newlines',
    { parseAs: 'string', bodyLimit },
    (request, body, done) => {
      const tampered = payloadMismatch(request, body as string);
      if (tampered) {
        done(tampered, undefined);
        return;
      }
      try {
        done(null, {
          kind: 'newlines',
          value: parseNewlines(body as string),
        } satisfies RequestBody);
      } catch {
        done(new HttpError('MALFORMED_JSON'), undefined);
      }
    },
  );
}

/**
 * Hawk 1: when the client sent `hash`, the body must be the one it signed
 * (else anyone on the path could swap it under a valid MAC). Checked before
 * the body is parsed, so a swapped body is 401 even when it is not JSON.
 */
function payloadMismatch(request: FastifyRequest, body: string): HttpError | undefined {
  const expected = request.hawkPayloadHash;
  if (expected === null || expected === undefined) return undefined;
  if (macEquals(expected, payloadHash(request.headers['content-type'], body))) return undefined;
  request.log.info(
    { reqId: request.id, reason: 'payload hash mismatch' },
    'authentication refused: the body does not match the Hawk payload hash',
  );
  return new HttpError('UNAUTHORIZED', 'payload hash mismatch', {
    headers: { 'WWW-Authenticate': 'Hawk' },
  });
}

/** The body of a request, or a 400 when there is none. */
export function requireBody(body: unknown): RequestBody {
  if (typeof body === 'object' && body !== null && 'kind' in body) return body as RequestBody;
  throw new HttpError('MALFORMED_JSON', 'no body');
}
