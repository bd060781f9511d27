/**
 * The token server assembled: its store over a SQL driver (migrated), the
 * FxA verifier, the issuer, and `register(app)` to mount
 * `GET /1.0/sync/1.5` on a Fastify instance. `serve` passes the storage's
 * own driver (one connection pool per database file); `tokenserver` opens one.
 */
import type { FastifyInstance } from 'fastify';
import type { SqlDriver } from '../sql/sql-types.js';
import { FxaVerifier, type TokenVerifier } from './fxa-verifier.js';
import { TokenIssuer } from './token-issuer.js';
import {
  resolveTokenserverConfig,
  type TokenserverConfig,
  type TokenserverConfigInput,
} from './tokenserver-config.js';
import type { TokenserverObserver } from './tokenserver-observer.js';
import { tokenserverRoutes } from './tokenserver-routes.js';
import { TokenserverStore } from './tokenserver-store.js';

export interface CreateTokenserverOptions {
  driver: SqlDriver;
  /** Close the driver with the token server (not when storage shares it). Default false. */
  ownsDriver?: boolean;
  config: TokenserverConfigInput | Readonly<TokenserverConfig>;
  /** Default: FxA as configured. Tests may pass their own. */
  verifier?: TokenVerifier;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
  lockTimeoutMs?: number;
  onRefused?: (fxaUid: string) => void;
  /** Told about tokens, assignments and FxA verifications (the metrics). */
  observer?: TokenserverObserver;
}

export interface Tokenserver {
  readonly config: Readonly<TokenserverConfig>;
  readonly store: TokenserverStore;
  readonly issuer: TokenIssuer;
  /** Mount the routes (an encapsulated plugin: its JSON error handler stays inside). */
  register(app: FastifyInstance): void;
  healthCheck(): Promise<boolean>;
  close(): Promise<void>;
}

export async function createTokenserver(options: CreateTokenserverOptions): Promise<Tokenserver> {
  const config = Object.isFrozen(options.config)
    ? (options.config as Readonly<TokenserverConfig>)
    : resolveTokenserverConfig(options.config as TokenserverConfigInput);
  const store = new TokenserverStore({
    driver: options.driver,
    ownsDriver: options.ownsDriver,
    clock: options.clock,
    lockTimeoutMs: options.lockTimeoutMs,
    observer: options.observer,
  });
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  const verifier =
    options.verifier ??
    new FxaVerifier({
      oauthServerUrl: config.oauthServerUrl,
      requestTimeoutMs: config.oauthRequestTimeoutMs,
      jwks: config.jwks,
      observer: options.observer,
    });
  const issuer = new TokenIssuer({
    config,
    store,
    verifier,
    clock: options.clock,
    onRefused: options.onRefused,
  });
  return {
    config,
    store,
    issuer,
    register(app) {
      void app.register(tokenserverRoutes, {
        issuer,
        retryAfterSeconds: config.retryAfterSeconds,
        clock: options.clock,
        observer: options.observer,
      });
    },
    healthCheck: () => store.healthCheck(),
    close: () => store.close(),
  };
}
