/**
 * `buildApp(options)`: the SyncStorage API 1.5 as a Fastify instance, apart
 * from the code that listens (src/cli/serve-command.ts), so tests drive it
 * with `app.inject()`. Storage, configuration, logger and clock are passed in.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type HookHandlerDoneFunction,
  type onRequestHookHandler,
  type RouteOptions,
} from 'fastify';
import type { CacheStore } from '@syncstorage-ts/memcache';
import type { SyncStorage } from '../storage/sync-storage.js';
import { nowMs, toWire } from '../storage/timestamps.js';
import { authHook } from './auth/auth-hook.js';
import { HawkAuthenticator } from './auth/hawk-authenticator.js';
import { SharedNonces } from './auth/shared-nonces.js';
import {
  resolveServerConfig,
  type ServerConfig,
  type ServerConfigInput,
} from './config/server-config.js';
import { registerBodyParsers } from './content/body-parsers.js';
import { toHttpError } from './errors/error-mapper.js';
import { ERRORS, HttpError } from './errors/weave-errors.js';
import { requestLineWriter } from './logging/request-line.js';
import { registerCollectionRoutes } from './routes/collection-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerInfoRoutes } from './routes/info-routes.js';
import { registerItemRoutes } from './routes/item-routes.js';
import { EXPOSED_HEADERS, registerMethodRoutes } from './routes/method-routes.js';
import { batchWritesPerTurn } from './http/write-batching.js';
import { registerPostRoutes } from './routes/post-routes.js';
import type { RouteContext } from './routes/route-context.js';
import { finishedRequest, type RequestObserver } from './request-observer.js';

export interface BuildAppOptions {
  storage: SyncStorage;
  /** Validated and frozen here if it is not already. */
  config: ServerConfigInput | Readonly<ServerConfig>;
  /** A pino logger (see `createLogger`); silent when not given. */
  logger?: FastifyBaseLogger;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** The token server, mounted beside the storage API (`GET /1.0/sync/1.5`). */
  tokenserver?: {
    register(app: FastifyInstance): void;
    healthCheck(): Promise<boolean>;
  };
  /** Told about every answered request (metrics). */
  observer?: RequestObserver;
  /**
   * The cache every server process shares (memcached), for Hawk nonces: a
   * request replayed on another process is refused too. Default: nonces
   * are remembered in this process only (right for one process).
   */
  sharedCache?: CacheStore;
}

export function buildApp(options: BuildAppOptions): FastifyInstance {
  const config = Object.isFrozen(options.config)
    ? (options.config as Readonly<ServerConfig>)
    : resolveServerConfig(options.config as ServerConfigInput);
  const clock = options.clock ?? Date.now;
  const { tokenserver } = options;
  const ctx: RouteContext = {
    storage: options.storage,
    config,
    clock,
    ...(tokenserver ? { healthChecks: { tokenserver: () => tokenserver.healthCheck() } } : {}),
  };

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Behind a proxy with a path (--public-url https://example.com/sync) the
    // API answers with and without the prefix: a proxy may strip it or pass
    // it on. The MAC is checked against the prefixed path either way.
    ...(config.pathPrefix === '' ? {} : { rewriteUrl: stripPrefix(config.pathPrefix) }),
    // No child logger per request (pino's child() on every request is
    // measurable on the hot path): lines carry `reqId` where one is useful.
    childLoggerFactory: (logger) => logger,
    // One line per request is written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.maxRequestBytes,
    // request.ip (the request line's client) from X-Forwarded-For only
    // behind a proxy the operator trusts, as the MAC's host and port.
    trustProxy: config.trustProxy,
    // A BSO id is up to 64 printable characters, percent-encoded up to 3× as long.
    routerOptions: { maxParamLength: 256 },
    // A URL Fastify cannot decode gets the Weave body too (never Fastify's own).
    frameworkErrors: (_error, _request, reply) => {
      void (reply as unknown as FastifyReply)
        .code(ERRORS.BAD_REQUEST.status)
        .type('application/json')
        .send(String(ERRORS.BAD_REQUEST.weave));
    },
  }) as unknown as FastifyInstance;

  app.decorateRequest('syncUid', null);
  app.decorateRequest('syncTimestamp', 0);
  app.decorateRequest('hawkPayloadHash', null);
  registerBodyParsers(app, config.limits.maxRequestBytes);

  // API.md "Limits": refuse an announced oversize body before reading any of it.
  // Only routes whose method carries a body get the check, as a route hook:
  // Fastify never reads a GET/HEAD body, and a route without onRequest hooks
  // skips that hook stage entirely (hooks run on every request, so each one
  // counts on the hot path). Callback style: one promise less per request.
  const maxRequestBytes = config.limits.maxRequestBytes;
  function refuseOversize(
    request: FastifyRequest,
    _reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ) {
    const length = request.headers['content-length'];
    if (length !== undefined && Number(length) > maxRequestBytes) {
      done(new HttpError('PAYLOAD_TOO_LARGE'));
      return;
    }
    done();
  }
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.every((m) => m === 'GET' || m === 'HEAD')) return;
    runFirst(route, refuseOversize);
  });

  // Graceful shutdown: once closing, every response ends its connection, so
  // close() waits only for requests in flight, not for keep-alive timeouts.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    app.server.closeIdleConnections?.();
  });

  batchWritesPerTurn(app);

  // API.md "Headers": X-Weave-Timestamp on every response, never older
  // than the data the response describes.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!reply.hasHeader('x-weave-timestamp')) {
      reply.header('X-Weave-Timestamp', toWire(Math.max(nowMs(clock), request.syncTimestamp)));
    }
    if (request.headers.origin !== undefined && !reply.hasHeader('access-control-allow-origin')) {
      reply.header('Access-Control-Allow-Origin', request.headers.origin);
      reply.header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    if (closing) reply.header('Connection', 'close');
    done(null, payload);
  });

  // One line per request, without redaction (request-line.ts says why).
  const requestLine = requestLineWriter(app.log);
  const observer = options.observer;
  app.addHook('onResponse', (request, reply, done) => {
    observer?.requestFinished(finishedRequest(request, reply));
    requestLine(request, reply, request.syncUid);
    done();
  });

  // A backing store down (a SQLite file deleted or on a full disk, PostgreSQL
  // gone) is one clear warning naming it, not a stack per request: the same
  // cause is logged again at most every 10 s while it lasts.
  let lastUnavailable = { message: '', at: -Infinity };
  app.setErrorHandler(async (error, request, reply) => {
    const http = toHttpError(error);
    if (http.spec.status >= 500 && !http.spec.retry) {
      request.log.error({ reqId: request.id, err: error }, 'internal error');
    } else if (http.errorName === 'UNAVAILABLE') {
      const message = error instanceof Error ? error.message : String(error);
      const now = clock();
      if (message !== lastUnavailable.message || now - lastUnavailable.at >= 10_000) {
        lastUnavailable = { message, at: now };
        request.log.warn({ reqId: request.id }, `storage unavailable: ${message}`);
      }
    }
    if (http.spec.retry) reply.header('Retry-After', String(config.retryAfterSeconds));
    for (const [name, value] of Object.entries(http.headers)) reply.header(name, value);
    if (http.spec.status === 401 && !reply.hasHeader('www-authenticate')) {
      reply.header('WWW-Authenticate', 'Hawk');
    }
    return reply.code(http.spec.status).type('application/json').send(String(http.spec.weave));
  });

  // API.md "Paths": unknown routes are 404 with body 0.
  app.setNotFoundHandler(async (_request, reply) =>
    reply.code(404).type('application/json').send('0'),
  );

  registerHealthRoutes(app, ctx);
  tokenserver?.register(app);
  registerMethodRoutes(app);
  const authenticator = new HawkAuthenticator({
    masterSecret: config.masterSecret,
    skewSeconds: config.skewSeconds,
    trustProxy: config.trustProxy,
    publicUrl: config.publicUrl,
    pathPrefix: config.pathPrefix,
    clock,
    ...(options.sharedCache && {
      sharedNonces: new SharedNonces({
        store: options.sharedCache,
        windowSeconds: config.skewSeconds,
      }),
    }),
  });
  void app.register(
    async (scope) => {
      // A route-level hook, so each route's own allowance (info/collections
      // takes an expired token) is fixed here rather than looked up per request.
      scope.addHook('onRoute', (route) => {
        runFirst(
          route,
          authHook(authenticator, { allowExpired: route.config?.allowExpiredToken === true }),
        );
      });
      registerInfoRoutes(scope, ctx);
      registerCollectionRoutes(scope, ctx);
      registerPostRoutes(scope, ctx);
      registerItemRoutes(scope, ctx);
    },
    { prefix: '/1.5/:uid' },
  );
  return app;
}

/** `/sync/1.5/1/…` → `/1.5/1/…` for prefix "/sync"; any other URL as it came. */
function stripPrefix(prefix: string): (request: { url?: string }) => string {
  return (request) => {
    const url = request.url ?? '/';
    if (!url.startsWith(prefix)) return url;
    const rest = url.slice(prefix.length);
    if (rest === '' || rest.startsWith('?')) return `/${rest}`;
    return rest.startsWith('/') ? rest : url;
  };
}

/** Put `hook` before a route's own onRequest hooks (a route-level hook: see refuseOversize). */
function runFirst(route: RouteOptions, hook: onRequestHookHandler): void {
  route.onRequest = [hook, ...[route.onRequest ?? []].flat()];
}
