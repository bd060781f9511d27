/** What every route registration gets: its dependencies, passed in (never imported globals). */
import type { FastifyRequest } from 'fastify';
import type { SyncStorage } from '../../storage/sync-storage.js';
import type { ServerConfig } from '../config/server-config.js';
import { HttpError } from '../errors/weave-errors.js';

export interface RouteContext {
  storage: SyncStorage;
  config: Readonly<ServerConfig>;
  clock: () => number;
  /** More `/__heartbeat__` checks by name (the token server's database). */
  healthChecks?: Readonly<Record<string, () => Promise<boolean>>>;
}

/** The authenticated uid (set by the auth hook of the /1.5/:uid scope). */
export function userId(request: FastifyRequest): number {
  if (request.syncUid === null) throw new HttpError('UNAUTHORIZED');
  return request.syncUid;
}

/** The collection path parameter, checked against the API's name rule. */
export function collectionParam(request: FastifyRequest, pattern: RegExp): string {
  const { collection } = request.params as { collection?: string };
  if (collection === undefined || !pattern.test(collection)) {
    throw new HttpError('BAD_REQUEST', 'invalid collection name');
  }
  return collection;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The token's uid once authenticated; null before (and on public routes). */
    syncUid: number | null;
    /** A write's timestamp or a read's last-modified, ms: X-Weave-Timestamp is never older. */
    syncTimestamp: number;
  }
}
