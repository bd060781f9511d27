/**
 * The Fastify side of authentication: an onRequest hook (before the body is
 * read) for the `/1.5/:uid` scope. 401 carries `WWW-Authenticate: Hawk`;
 * a valid token for another uid than the path's is 403.
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { HttpError } from '../errors/weave-errors.js';
import type { HawkAuthenticator } from './hawk-authenticator.js';

const UID = /^\d{1,10}$/;

export function authHook(authenticator: HawkAuthenticator): onRequestHookHandler {
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply) {
    const { uid } = request.params as { uid?: string };
    if (uid === undefined || !UID.test(uid)) throw new HttpError('NOT_FOUND', 'bad uid');
    const outcome = authenticator.authenticate({
      method: request.method,
      url: request.url,
      headers: request.headers,
      encrypted: Boolean((request.raw.socket as TLSSocket | undefined)?.encrypted),
      allowExpired: request.method === 'GET' && /\/info\/collections(\?|$)/.test(request.url),
    });
    if (!outcome.ok) {
      request.log.info({ reason: outcome.reason }, 'authentication refused');
      throw new HttpError('UNAUTHORIZED', outcome.reason, {
        headers: { 'WWW-Authenticate': outcome.wwwAuthenticate },
      });
    }
    if (outcome.uid !== Number(uid)) throw new HttpError('FORBIDDEN');
    request.syncUid = outcome.uid;
  };
}
