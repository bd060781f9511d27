/**
 * FxA OAuth access-token verification, as syncstorage-rs does it
 * (`tokenserver-auth/src/oauth/native.rs`, `crypto.rs`), with `jose`:
 *
 * 1. Keys: the configured JWKs (primary, secondary: FxA's key rotation);
 *    without any, the JWKs served at `<server>/v1/jwks` (cached).
 * 2. The token is an RS256 JWT of type `at+jwt`; each key is tried in turn.
 *    A bad signature under every key, an expired token or a wrong `typ` is
 *    final (401). When the keys cannot decide (no usable key, a token that
 *    is not such a JWT), FxA decides: `POST <server>/v1/verify` with
 *    `{"token": …}`, under a timeout.
 * 3. The scope must include `https://identity.mozilla.com/apps/oldsync`.
 *
 * FxA unreachable or failing (timeout, network, 5xx) is a 503, not a 401:
 * the client's credentials may be fine.
 */
import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import {
  errors as joseErrors,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type KeyObject,
} from 'jose';
import { TokenserverError, tokenserverErrors } from './tokenserver-errors.js';
import type {
  TokenserverObserver,
  VerificationMethod,
  VerificationOutcome,
} from './tokenserver-observer.js';

export const OLDSYNC_SCOPE = 'https://identity.mozilla.com/apps/oldsync';

/** What a verified token says about the account. */
export interface VerifiedAccount {
  fxaUid: string;
  /** `fxa-generation` (ms), null when absent. */
  generation: number | null;
}

/** Verifies a Bearer token; throws `TokenserverError`. */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedAccount>;
}

export interface FxaVerifierOptions {
  /** e.g. https://oauth.accounts.firefox.com; `/v1/jwks` and `/v1/verify` are appended. */
  oauthServerUrl: string;
  /** Timeout of each request to FxA, ms. */
  requestTimeoutMs: number;
  /** Configured JWKs (primary first). Empty: fetch `/v1/jwks`. */
  jwks: readonly JWK[];
  /** How long fetched JWKs are kept, ms. Default 5 minutes. */
  jwksCacheMs?: number;
  /** Allowed clock difference for `exp`/`nbf`, seconds (jsonwebtoken's default leeway). Default 60. */
  clockToleranceSeconds?: number;
  /** Injectable for tests. Default the global `fetch`. */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch: JWKs and verified-token caches, `exp` checks. Default `Date.now`. */
  clock?: () => number;
  /** Told how each token was verified (the metrics). */
  observer?: Pick<TokenserverObserver, 'fxaVerified'>;
}

type VerifyKey = CryptoKey | KeyObject;

/** Import the JWKs that can verify RS256; the others are skipped (as "no usable key"). */
export async function importVerifyKeys(jwks: readonly unknown[]): Promise<VerifyKey[]> {
  const keys: VerifyKey[] = [];
  for (const jwk of jwks) {
    if (typeof jwk !== 'object' || jwk === null || (jwk as JWK).kty !== 'RSA') continue;
    try {
      // A node:crypto KeyObject: jose verifies with it faster than with a WebCrypto key.
      const { kty, n, e } = jwk as JWK;
      keys.push(createPublicKey({ key: { kty, n, e } as JsonWebKey, format: 'jwk' }));
    } catch {
      // Not a usable RSA public key: skipped.
    }
  }
  return keys;
}

interface TokenClaims extends JWTPayload {
  scope?: unknown;
  'fxa-generation'?: unknown;
}

function hasOldsync(scope: readonly string[]): boolean {
  return scope.includes(OLDSYNC_SCOPE);
}

function optionalGeneration(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

/** `at+jwt` with the implicit `application/` prefix, case-insensitive (RFC 7515 §4.1.9). */
function isAccessTokenType(typ: string | undefined): boolean {
  if (typ === undefined) return false;
  const full = typ.includes('/') ? typ : `application/${typ}`;
  return full.toLowerCase() === 'application/at+jwt';
}

/** Verified JWTs remembered (by digest); cleared whole when full. */
const VERIFIED_CACHE_SIZE = 10_000;

/** Local verification could not decide: ask FxA. */
const UNDECIDED = Symbol('undecided');

/** A 503 is FxA out of reach; any other refusal is the token's fault. */
function outcomeOf(error: unknown): VerificationOutcome {
  return error instanceof TokenserverError && error.httpStatus >= 500 ? 'unavailable' : 'invalid';
}

export class FxaVerifier implements TokenVerifier {
  readonly #verifyUrl: string;
  readonly #jwksUrl: string;
  readonly #timeoutMs: number;
  readonly #jwksCacheMs: number;
  readonly #tolerance: number;
  readonly #fetch: typeof fetch;
  readonly #clock: () => number;
  readonly #configured: Promise<VerifyKey[]>;
  readonly #hasConfigured: boolean;
  #fetched: { keys: Promise<VerifyKey[]>; at: number } | undefined;
  readonly #verified = new Map<string, { account: VerifiedAccount; expiresMs: number }>();
  readonly #observe: (method: VerificationMethod, outcome: VerificationOutcome) => void;

  constructor(options: FxaVerifierOptions) {
    const base = options.oauthServerUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.#verifyUrl = `${base}/v1/verify`;
    this.#jwksUrl = `${base}/v1/jwks`;
    this.#timeoutMs = options.requestTimeoutMs;
    this.#jwksCacheMs = options.jwksCacheMs ?? 5 * 60_000;
    this.#tolerance = options.clockToleranceSeconds ?? 60;
    this.#fetch = options.fetch ?? fetch;
    this.#clock = options.clock ?? Date.now;
    this.#hasConfigured = options.jwks.length > 0;
    this.#configured = importVerifyKeys(options.jwks);
    const observer = options.observer;
    this.#observe = observer
      ? (method, outcome) => observer.fxaVerified(method, outcome)
      : () => undefined;
  }

  async verify(token: string): Promise<VerifiedAccount> {
    // A JWT verified once stays valid until its exp: Firefox reuses its
    // access token for every token request until then.
    const digest = createHash('sha256').update(token).digest('base64');
    const cached = this.#verified.get(digest);
    if (cached && cached.expiresMs > this.#clock()) {
      this.#observe('cache', 'ok');
      return cached.account;
    }
    const keys = this.#hasConfigured ? await this.#configured : await this.#remoteKeys();
    let local: { account: VerifiedAccount; expiresMs: number } | typeof UNDECIDED = UNDECIDED;
    if (keys.length > 0) {
      try {
        local = await this.#verifyLocally(keys, token);
      } catch (error) {
        this.#observe('local_jwk', outcomeOf(error));
        throw error;
      }
    }
    if (local !== UNDECIDED) {
      this.#observe('local_jwk', 'ok');
      if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.clear();
      this.#verified.set(digest, { account: local.account, expiresMs: local.expiresMs });
      return local.account;
    }
    try {
      const account = await this.#verifyRemotely(token);
      this.#observe('remote_verify', 'ok');
      return account;
    } catch (error) {
      this.#observe('remote_verify', outcomeOf(error));
      throw error;
    }
  }

  async #verifyLocally(
    keys: readonly VerifyKey[],
    token: string,
  ): Promise<{ account: VerifiedAccount; expiresMs: number } | typeof UNDECIDED> {
    for (const key of keys) {
      let result;
      try {
        result = await jwtVerify<TokenClaims>(token, key, {
          algorithms: ['RS256'],
          clockTolerance: this.#tolerance,
          currentDate: new Date(this.#clock()),
        });
      } catch (error) {
        if (error instanceof joseErrors.JWSSignatureVerificationFailed) continue;
        if (error instanceof joseErrors.JWTExpired) {
          throw tokenserverErrors.invalidCredentials('The signature has expired');
        }
        // Not a JWT these keys can check (jsonwebtoken's DecodingError): FxA decides.
        return UNDECIDED;
      }
      if (!isAccessTokenType(result.protectedHeader.typ)) {
        throw tokenserverErrors.invalidCredentials('Untrusted token: typ is not at+jwt');
      }
      const { sub, scope } = result.payload;
      if (typeof sub !== 'string' || typeof scope !== 'string') return UNDECIDED;
      // FxA writes the scopes space-separated; syncstorage-rs splits on commas.
      if (!hasOldsync(scope.split(/[\s,]+/))) {
        throw tokenserverErrors.invalidCredentials('token lacks the oldsync scope');
      }
      const exp = typeof result.payload.exp === 'number' ? result.payload.exp * 1000 : 0;
      return {
        account: { fxaUid: sub, generation: optionalGeneration(result.payload['fxa-generation']) },
        // Cached no longer than the token lives, nor than a minute past verification.
        expiresMs: Math.min(exp, this.#clock() + 60_000),
      };
    }
    throw tokenserverErrors.invalidCredentials('Untrusted token: no key verifies its signature');
  }

  /** The JWKs at `/v1/jwks`, cached; none when FxA cannot be reached (then /v1/verify decides). */
  #remoteKeys(): Promise<VerifyKey[]> {
    const now = this.#clock();
    if (!this.#fetched || now - this.#fetched.at >= this.#jwksCacheMs) {
      this.#fetched = { at: now, keys: this.#fetchKeys() };
    }
    return this.#fetched.keys;
  }

  async #fetchKeys(): Promise<VerifyKey[]> {
    try {
      const response = await this.#fetch(this.#jwksUrl, {
        signal: AbortSignal.timeout(this.#timeoutMs),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) return [];
      const body = (await response.json()) as { keys?: unknown };
      return Array.isArray(body.keys) ? await importVerifyKeys(body.keys) : [];
    } catch {
      return [];
    }
  }

  async #verifyRemotely(token: string): Promise<VerifiedAccount> {
    let response: Response;
    try {
      response = await this.#fetch(this.#verifyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ token }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw tokenserverErrors.unavailable(`FxA /v1/verify unreachable: ${String(error)}`);
    }
    if (response.status >= 500) {
      throw tokenserverErrors.unavailable(`FxA /v1/verify answered ${response.status}`);
    }
    if (!response.ok) {
      throw tokenserverErrors.invalidCredentials(`Got verify status code: ${response.status}`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw tokenserverErrors.invalidCredentials('FxA /v1/verify answered no JSON');
    }
    const { user, scope, generation } = (body ?? {}) as Record<string, unknown>;
    if (typeof user !== 'string' || !Array.isArray(scope)) {
      throw tokenserverErrors.invalidCredentials('FxA /v1/verify answered no user and scope');
    }
    if (!hasOldsync(scope.filter((s): s is string => typeof s === 'string'))) {
      throw tokenserverErrors.invalidCredentials('token lacks the oldsync scope');
    }
    return { fxaUid: user, generation: optionalGeneration(generation) };
  }
}
