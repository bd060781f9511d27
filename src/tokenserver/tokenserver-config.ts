/**
 * The token server's options: one defaults object, validated once, then
 * frozen. Names and defaults follow syncstorage-rs's `tokenserver-settings`
 * where it has them, except that the defaults point at Mozilla's
 * production accounts service (syncstorage-rs defaults to stage).
 */
import { createHmac } from 'node:crypto';
import type { JWK } from 'jose';
import { ConfigError } from '../server/config/server-config.js';
import { DEFAULT_CAPACITY_RELEASE_RATE } from './node-assignment.js';

export const PRODUCTION_FXA_OAUTH_URL = 'https://oauth.accounts.firefox.com';
export const PRODUCTION_FXA_EMAIL_DOMAIN = 'api.accounts.firefox.com';

export interface TokenserverConfig {
  /** Shared with the storage nodes; signs tokens. */
  masterSecret: string;
  /** FxA OAuth server; `/v1/jwks` and `/v1/verify` are appended. */
  oauthServerUrl: string;
  /** Timeout of a request to FxA, ms (syncstorage-rs: 10 s). */
  oauthRequestTimeoutMs: number;
  /** Configured JWKs, primary first; empty: fetch `/v1/jwks`. */
  jwks: readonly JWK[];
  /** Key of `hashed_fxa_uid` / `hashed_device_id`. */
  metricsHashSecret: string;
  /** A user's email is `<fxa uid>@<emailDomain>`. */
  emailDomain: string;
  /** Token lifetime, seconds; `?duration=` may ask for less. Default 3600. */
  tokenDurationSeconds: number;
  /** Share of a full node's capacity opened per release. Default 0.1. */
  capacityReleaseRate: number;
  /** False: only users who already have a record get tokens. Default true. */
  allowNewUsers: boolean;
  /** FxA uids or `<uid>@<emailDomain>` emails; empty admits everyone. */
  allowedUsers: readonly string[];
  /** `node_type` of the answer (the storage backend). */
  nodeType: string;
  /** `Retry-After` on 503, seconds. */
  retryAfterSeconds: number;
}

export type TokenserverConfigInput = Partial<
  Omit<TokenserverConfig, 'masterSecret' | 'metricsHashSecret'>
> & {
  masterSecret: string;
  /** Default: derived from the master secret (stable, private). */
  metricsHashSecret?: string;
};

function positiveInteger(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(option, `expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkJwk(option: string, jwk: unknown): JWK {
  const candidate = jwk as Partial<JWK> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    candidate.kty !== 'RSA' ||
    typeof candidate.n !== 'string' ||
    typeof candidate.e !== 'string'
  ) {
    throw new ConfigError(option, 'expected an RSA public JWK {"kty": "RSA", "n": …, "e": …}');
  }
  return Object.freeze({ ...candidate }) as JWK;
}

export function resolveTokenserverConfig(
  input: TokenserverConfigInput,
): Readonly<TokenserverConfig> {
  if (typeof input.masterSecret !== 'string' || input.masterSecret === '') {
    throw new ConfigError('masterSecret', 'expected a non-empty string (SYNC_MASTER_SECRET)');
  }
  const oauthServerUrl = (input.oauthServerUrl ?? PRODUCTION_FXA_OAUTH_URL).replace(/\/+$/, '');
  try {
    const url = new URL(oauthServerUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError(
      'tokenserver.fxa_oauth_server_url',
      `expected an http(s) URL, got ${JSON.stringify(oauthServerUrl)}`,
    );
  }
  const rate = input.capacityReleaseRate ?? DEFAULT_CAPACITY_RELEASE_RATE;
  if (!Number.isFinite(rate) || rate <= 0 || rate > 1) {
    throw new ConfigError(
      'tokenserver.node_capacity_release_rate',
      `expected a number in (0, 1], got ${rate}`,
    );
  }
  const jwks = (input.jwks ?? []).map((jwk, i) =>
    checkJwk(
      i === 0 ? 'tokenserver.fxa_oauth_primary_jwk' : 'tokenserver.fxa_oauth_secondary_jwk',
      jwk,
    ),
  );
  const emailDomain = input.emailDomain ?? PRODUCTION_FXA_EMAIL_DOMAIN;
  if (!/^[A-Za-z0-9.-]+$/.test(emailDomain)) {
    throw new ConfigError('tokenserver.fxa_email_domain', `expected a domain, got ${emailDomain}`);
  }
  return Object.freeze({
    masterSecret: input.masterSecret,
    oauthServerUrl,
    oauthRequestTimeoutMs: positiveInteger(
      'tokenserver.fxa_oauth_request_timeout',
      input.oauthRequestTimeoutMs ?? 10_000,
    ),
    jwks: Object.freeze(jwks),
    metricsHashSecret:
      input.metricsHashSecret ??
      createHmac('sha256', input.masterSecret).update('fxa_metrics_hash_secret').digest('hex'),
    emailDomain,
    tokenDurationSeconds: positiveInteger(
      'tokenserver.token_duration',
      input.tokenDurationSeconds ?? 3600,
    ),
    capacityReleaseRate: rate,
    allowNewUsers: input.allowNewUsers ?? true,
    allowedUsers: Object.freeze([...(input.allowedUsers ?? [])].map((u) => u.toLowerCase())),
    nodeType: input.nodeType ?? 'sqlite',
    retryAfterSeconds: positiveInteger('retryAfterSeconds', input.retryAfterSeconds ?? 10),
  });
}
