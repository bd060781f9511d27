/**
 * Verifies a request's Hawk header and tokenlib token (API.md
 * "Authentication"): signature of the token, expiry, optional node check,
 * the MAC over method/path/host/port, the clock skew, and nonce replay.
 * Pure of Fastify: takes the request's parts, returns who it is or why not.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { computeMac, macEquals, parseHawkHeader, timestampMac } from './hawk.js';
import { NonceCache } from './nonce-cache.js';
import type { SharedNonces } from './shared-nonces.js';
import { requestOrigin } from './request-origin.js';
import { deriveHawkKey, InvalidTokenError, signingKey, verifyToken } from './tokenlib.js';
import type { TokenPayload } from './tokenlib.js';

export interface AuthenticatorOptions {
  masterSecret: string;
  skewSeconds: number;
  trustProxy: boolean;
  /** When set, the token's `node` must be this URL (no trailing slash). */
  publicUrl: string | null;
  /**
   * The public URL's path ("" or e.g. "/sync"): clients sign the path they
   * sent to the public URL, so the MAC is checked against prefix + the path
   * as routed (a proxy may have stripped the prefix, or not).
   */
  pathPrefix?: string;
  /** Nonces shared by every process (memcached); checked after the in-process cache. */
  sharedNonces?: SharedNonces;
  clock: () => number;
}

export interface AuthRequest {
  method: string;
  /** Path and query as routed (without the public URL's path prefix). */
  url: string;
  headers: IncomingHttpHeaders;
  encrypted: boolean;
  /** info/collections accepts an expired token: clients call it first (API.md). */
  allowExpired: boolean;
}

/** What the MAC was checked against, for a log line an operator can act on (never the MAC or key). */
export interface CheckedAgainst {
  host: string;
  port: number;
  scheme: string;
  path: string;
}

export type AuthOutcome =
  | {
      ok: true;
      uid: number;
      token: TokenPayload;
      /** The `hash` attribute when the client sent one: the body must match it (payloadHash). */
      payloadHash: string | undefined;
    }
  | { ok: false; reason: string; wwwAuthenticate: string; checked?: CheckedAgainst };

function refuse(reason: string, wwwAuthenticate = 'Hawk', checked?: CheckedAgainst): AuthOutcome {
  return { ok: false, reason, wwwAuthenticate, checked };
}

interface VerifiedToken {
  token: TokenPayload;
  /** The Hawk key. */
  key: string;
  /** 96 bits of SHA-256 of the token id: names the token in the nonce cache. */
  tag: string;
}

/** Verified tokens kept (a client reuses its token for its lifetime, typically an hour). */
const TOKEN_CACHE_SIZE = 10_000;

export class HawkAuthenticator {
  readonly #options: AuthenticatorOptions;
  readonly #signingKey: Buffer;
  readonly #nonces: NonceCache;
  // Token text → its verified payload and Hawk key: saves the signature
  // check and the HKDF on every request after the first. Keyed by the whole
  // token, so only a token that verified can hit; expiry is still checked
  // per request.
  readonly #tokens = new Map<string, VerifiedToken>();

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
    this.#signingKey = signingKey(options.masterSecret);
    // A nonce needs remembering only while its ts is acceptable.
    this.#nonces = new NonceCache({ windowSeconds: options.skewSeconds, clock: options.clock });
  }

  /** Synchronous unless shared nonces are configured (then the last step asks memcached). */
  authenticate(request: AuthRequest): AuthOutcome | Promise<AuthOutcome> {
    const header = request.headers.authorization;
    const attrs = parseHawkHeader(header);
    if (!attrs) return refuse(header ? 'malformed Hawk header' : 'no credentials');
    const verified = this.#verified(attrs.id);
    if ('reason' in verified) return refuse(verified.reason);
    const { token, key } = verified;
    const nowMs = this.#options.clock();
    if (token.expires * 1000 <= nowMs && !request.allowExpired) return refuse('token expired');
    const { publicUrl } = this.#options;
    if (publicUrl !== null && token.node.replace(/\/+$/, '') !== publicUrl) {
      return refuse('token is for another node');
    }
    const origin = requestOrigin(request.headers, request.encrypted, this.#options.trustProxy);
    if (!origin) return refuse('no host');
    const resource = (this.#options.pathPrefix ?? '') + request.url;
    const expected = computeMac(key, {
      method: request.method,
      resource,
      host: origin.host,
      port: origin.port,
      ts: attrs.ts,
      nonce: attrs.nonce,
      hash: attrs.hash,
      ext: attrs.ext,
    });
    if (!macEquals(attrs.mac, expected)) {
      return refuse('bad MAC', 'Hawk', {
        host: origin.host,
        port: origin.port,
        scheme: origin.scheme,
        path: resource.split('?')[0] ?? resource,
      });
    }
    // Hawk 1: a stale ts is answered with our time and its MAC so the
    // client can correct its clock.
    const nowSeconds = Math.floor(nowMs / 1000);
    if (Math.abs(nowSeconds - Number(attrs.ts)) > this.#options.skewSeconds) {
      const ts = String(nowSeconds);
      return refuse(
        'stale timestamp',
        `Hawk ts="${ts}", tsm="${timestampMac(key, ts)}", error="Stale timestamp"`,
      );
    }
    // Remembered per (token, ts, nonce) as Hawk says, with the token as a
    // short digest of its id: the window holds every request of the last
    // 2 × skew seconds, so a few dozen bytes each instead of ~200.
    const nonceKey = `${verified.tag}:${attrs.nonce}`;
    if (!this.#nonces.checkAndAdd(Number(attrs.ts), nonceKey)) {
      return refuse('replayed nonce');
    }
    const accepted: AuthOutcome = { ok: true, uid: token.uid, token, payloadHash: attrs.hash };
    const shared = this.#options.sharedNonces;
    if (!shared) return accepted;
    // Another process may have seen it (issue 13): asked last, once everything else passed.
    return shared
      .checkAndAdd(Number(attrs.ts), nonceKey)
      .then((fresh) => (fresh ? accepted : refuse('replayed nonce')));
  }

  #verified(id: string): VerifiedToken | { reason: string } {
    const cached = this.#tokens.get(id);
    if (cached) return cached;
    let token: TokenPayload;
    try {
      token = verifyToken(this.#signingKey, id);
    } catch (error) {
      if (error instanceof InvalidTokenError) return { reason: error.message };
      throw error;
    }
    const entry = {
      token,
      key: deriveHawkKey(this.#options.masterSecret, id, token.salt),
      tag: createHash('sha256').update(id).digest('base64url').slice(0, 16),
    };
    if (this.#tokens.size >= TOKEN_CACHE_SIZE) {
      const oldest = this.#tokens.keys().next().value;
      if (oldest !== undefined) this.#tokens.delete(oldest);
    }
    this.#tokens.set(id, entry);
    return entry;
  }
}
