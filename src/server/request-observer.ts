/**
 * Told about every answered request (the admin listener's metrics pass one
 * in; `buildApp` works without). The route is Fastify's pattern, never the
 * raw URL, so uids and item ids do not become label values.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface FinishedRequest {
  method: string;
  /** `/1.5/:uid/storage/:collection`, or `unknown` when no route matched. */
  route: string;
  status: number;
  seconds: number;
}

export interface RequestObserver {
  requestFinished(request: FinishedRequest): void;
}

/** What an `onResponse` hook tells the observer about its request. */
export function finishedRequest(request: FastifyRequest, reply: FastifyReply): FinishedRequest {
  return {
    method: request.method,
    route: request.routeOptions.url ?? 'unknown',
    status: reply.statusCode,
    seconds: reply.elapsedTime / 1000,
  };
}
