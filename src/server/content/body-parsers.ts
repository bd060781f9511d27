/**
 * Request bodies (API.md "Content types"): `application/json` and
 * `text/plain` carry JSON; `application/newlines` one JSON object per line.
 * Any other type is refused by Fastify with 415. Fastify enforces
 * `bodyLimit` from Content-Length before reading and while streaming, so an
 * oversize body is never buffered whole (413).
 */
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors/weave-errors.js';
import { parseNewlines } from './newlines.js';

/** A parsed body: which syntax it came in, and its value. */
export type RequestBody = { kind: 'json'; value: unknown } | { kind: 'newlines'; value: unknown[] };

export function registerBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'text/plain'],
    { parseAs: 'string', bodyLimit },
    (_request, body, done) => {
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
    (_request, body, done) => {
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

/** The body of a request, or a 400 when there is none. */
export function requireBody(body: unknown): RequestBody {
  if (typeof body === 'object' && body !== null && 'kind' in body) return body as RequestBody;
  throw new HttpError('MALFORMED_JSON', 'no body');
}
