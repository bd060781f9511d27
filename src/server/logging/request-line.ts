/**
 * The one log line per request that the storage app and the standalone
 * token server write from their onResponse hook (Fastify's own request
 * logging is off in both: two lines through a child logger per request).
 * The line holds only method, route pattern, status, latency, uid, client
 * and request id, never a secret by construction, so its logger skips
 * pino's redaction: with wildcard paths that runs over every field of every
 * line, which costs more than building the line itself. Other lines keep it.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';

export type RequestLineWriter = (
  request: FastifyRequest,
  reply: FastifyReply,
  uid?: number | null,
) => void;

export function requestLineWriter(logger: FastifyBaseLogger): RequestLineWriter {
  const lines = logger.child({}, { redact: [] });
  return (request, reply, uid) =>
    lines.info(
      {
        reqId: request.id,
        method: request.method,
        route: request.routeOptions.url ?? null,
        status: reply.statusCode,
        latencyMs: Math.round(reply.elapsedTime * 100) / 100,
        uid,
        client: request.ip,
      },
      'request',
    );
}
