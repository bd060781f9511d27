/**
 * The Fastify side of authentication: an onRequest hook (before the body is
 * read) for each route of the `/1.5/:uid` scope, made when the route is
 * registered (src/server/app.ts). 401 carries `WWW-Authenticate: Hawk`;
 * a valid token for another uid than the path's is 403.
 */
import type {
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  onRequestHookHandler,
} from 'fastify';
import type { TLSSocket } from 'node:tls';
import { HttpError } from '../errors/weave-errors.js';
import type { AuthOutcome, HawkAuthenticator } from './hawk-authenticator.js';

const UID = /^\d{1,10}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The Hawk `hash` attribute of an authenticated request, null when not sent. */
    hawkPayloadHash: string | null;
  }
  interface FastifyContextConfig {
    /** info/collections: clients call it first, with a token that may have expired (API.md). */
    allowExpiredToken?: boolean;
  }
}

export interface AuthHookOptions {
  /** Accept an expired token (info/collections). */
  allowExpired: boolean;
}

export function authHook(
  authenticator: HawkAuthenticator,
  { allowExpired }: AuthHookOptions,
): onRequestHookHandler {
  // Callback style: it runs on every API request, and needs no await.
  return function authenticate(
    request: FastifyRequest,
    _reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ) {
    const { uid } = request.params as { uid?: string };
    if (uid === undefined || !UID.test(uid)) {
      done(new HttpError('NOT_FOUND', 'bad uid'));
      return;
    }
    const outcome = authenticator.authenticate({
      method: request.method,
      url: request.url,
      headers: request.headers,
      encrypted: Boolean((request.raw.socket as TLSSocket | undefined)?.encrypted),
      allowExpired,
    });
    if (outcome instanceof Promise) {
      // Shared nonces (memcached): the one asynchronous step.
      outcome.then((settled) => conclude(request, uid, settled, done), done);
      return;
    }
    conclude(request, uid, outcome, done);
  };
}

function conclude(
  request: FastifyRequest,
  uid: string,
  outcome: AuthOutcome,
  done: HookHandlerDoneFunction,
): void {
  if (!outcome.ok) {
    // Why, in terms an operator can act on: a bad MAC names the host,
    // port, scheme and path it was checked against (a proxy that does not
    // pass them, or --trust-proxy / --public-url not set), never the MAC.
    request.log.info(
      { reqId: request.id, reason: outcome.reason, ...outcome.checked },
      outcome.checked
        ? `authentication refused: bad MAC for ${outcome.checked.scheme}://${outcome.checked.host}:${outcome.checked.port}${outcome.checked.path} (check --public-url, --trust-proxy and the proxy's Host / X-Forwarded-* headers)`
        : `authentication refused: ${outcome.reason}`,
    );
    done(
      new HttpError('UNAUTHORIZED', outcome.reason, {
        headers: { 'WWW-Authenticate': outcome.wwwAuthenticate },
      }),
    );
    return;
  }
  if (outcome.uid !== Number(uid)) {
    done(new HttpError('FORBIDDEN'));
    return;
  }
  request.syncUid = outcome.uid;
  request.hawkPayloadHash = outcome.payloadHash ?? null;
  done();
}
