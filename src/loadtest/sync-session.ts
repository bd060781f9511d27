/**
 * One simulated user's signed connection: Hawk credentials from a
 * `CredentialSource` (minted with the master secret, or a token server's
 * answer), renewed a minute before they end, and a Hawk header on every
 * request (API.md "Authentication"). Paths are relative to /1.5/{uid} on the
 * credentials' storage node.
 */
import { randomBytes } from 'node:crypto';
import { buildHawkHeader } from '../server/auth/hawk.js';
import type { HttpResult, HttpTransport } from './http-transport.js';
import {
  MintedCredentials,
  type CredentialSource,
  type SessionCredentials,
  type TokenRequest,
} from './session-credentials.js';

export interface SyncSessionOptions {
  credentials: CredentialSource;
  /** The (shared, kept-alive) transport to a storage node's URL. */
  transportFor: (node: string) => HttpTransport;
  /** Credentials to start with; without them the first request obtains some. */
  initial?: SessionCredentials;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

export interface MintedSessionOptions {
  transport: HttpTransport;
  masterSecret: string;
  uid: number;
  /** Token lifetime, seconds. Default 3600. */
  tokenSeconds?: number;
  clock?: () => number;
}

export interface TimedResult extends HttpResult {
  /** Wall time of the request, ms. */
  ms: number;
}

/** Credentials are renewed this long before they end. */
const RENEW_MARGIN_MS = 60_000;

export class SyncSession {
  private current: SessionCredentials | undefined;
  private pending: Promise<unknown> | undefined;
  private readonly clock: () => number;
  /** Nonces only need to be unique per token: a random prefix and a counter. */
  private readonly noncePrefix = randomBytes(6).toString('base64url');
  private nonceCounter = 0;

  constructor(private readonly options: SyncSessionOptions) {
    this.clock = options.clock ?? Date.now;
    this.current = options.initial;
  }

  /** A session whose tokens are minted with the master secret for `uid` on `transport`'s server. */
  static minted(options: MintedSessionOptions): SyncSession {
    const clock = options.clock ?? Date.now;
    const credentials = new MintedCredentials({
      masterSecret: options.masterSecret,
      uid: options.uid,
      node: options.transport.origin.origin,
      tokenSeconds: options.tokenSeconds ?? 3600,
      clock,
    });
    return new SyncSession({
      credentials,
      transportFor: () => options.transport,
      initial: credentials.mint(),
      clock,
    });
  }

  /** The uid of the current credentials; 0 before any. */
  get uid(): number {
    return this.current?.uid ?? 0;
  }

  private needsRenewal(): boolean {
    return !this.current || this.current.expiresMs - RENEW_MARGIN_MS < this.clock();
  }

  /**
   * Obtain credentials when there are none or they end within a minute.
   * Returns the token server's answer when this call asked for one (a
   * concurrent caller waits for the same request and gets undefined).
   */
  async renew(): Promise<TokenRequest | undefined> {
    if (!this.needsRenewal()) return undefined;
    if (this.pending) {
      await this.pending;
      return undefined;
    }
    const obtained = this.options.credentials.obtain();
    this.pending = obtained;
    try {
      const { credentials, request } = await obtained;
      if (credentials) this.current = credentials;
      return request;
    } finally {
      this.pending = undefined;
    }
  }

  /** Send a signed request; never rejects (see `HttpTransport`). */
  async send(method: string, path: string, body?: string): Promise<TimedResult> {
    await this.renew();
    const current = this.current;
    if (!current) return { status: 0, headers: {}, body: '', error: 'NO_TOKEN', ms: 0 };
    const transport = this.options.transportFor(current.node);
    const now = this.clock();
    const resource = `${transport.origin.pathname.replace(/\/+$/, '')}/1.5/${current.uid}${path}`;
    const authorization = buildHawkHeader(current.id, current.key, {
      method,
      resource,
      host: transport.origin.hostname,
      port: transport.port,
      ts: String(Math.floor(now / 1000)),
      nonce: `${this.noncePrefix}${(this.nonceCounter++).toString(36)}`,
    });
    const headers: Record<string, string> = { host: transport.origin.host, authorization };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    const result = await transport.request(method, `/1.5/${current.uid}${path}`, headers, body);
    return { ...result, ms: performance.now() - started };
  }
}
