/**
 * One simulated user's signed connection: a tokenlib token minted with the
 * master secret (as the token server would issue it) and a Hawk header on
 * every request (API.md "Authentication"). Paths are relative to /1.5/{uid}.
 */
import { randomBytes } from 'node:crypto';
import { buildHawkHeader } from '../server/auth/hawk.js';
import { mintToken, type MintedToken } from '../server/auth/tokenlib.js';
import type { HttpResult, HttpTransport } from './http-transport.js';

export interface SyncSessionOptions {
  transport: HttpTransport;
  masterSecret: string;
  uid: number;
  /** Token lifetime, seconds; renewed a minute before it ends. Default 3600. */
  tokenSeconds?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

export interface TimedResult extends HttpResult {
  /** Wall time of the request, ms. */
  ms: number;
}

export class SyncSession {
  readonly uid: number;
  private token: MintedToken;
  private readonly clock: () => number;
  private readonly tokenSeconds: number;
  private readonly host: string;
  /** Nonces only need to be unique per token: a random prefix and a counter. */
  private readonly noncePrefix = randomBytes(6).toString('base64url');
  private nonceCounter = 0;

  constructor(private readonly options: SyncSessionOptions) {
    this.uid = options.uid;
    this.clock = options.clock ?? Date.now;
    this.tokenSeconds = options.tokenSeconds ?? 3600;
    this.host = options.transport.origin.host;
    this.token = this.mint();
  }

  private mint(): MintedToken {
    return mintToken(this.options.masterSecret, {
      uid: this.uid,
      node: this.options.transport.origin.origin,
      expires: Math.floor(this.clock() / 1000) + this.tokenSeconds,
    });
  }

  /** Send a signed request; never rejects (see `HttpTransport`). */
  async send(method: string, path: string, body?: string): Promise<TimedResult> {
    const now = this.clock();
    if (this.token.payload.expires - 60 < now / 1000) this.token = this.mint();
    const { transport } = this.options;
    const resource = `${transport.origin.pathname.replace(/\/+$/, '')}/1.5/${this.uid}${path}`;
    const authorization = buildHawkHeader(this.token.id, this.token.key, {
      method,
      resource,
      host: transport.origin.hostname,
      port: transport.port,
      ts: String(Math.floor(now / 1000)),
      nonce: `${this.noncePrefix}${(this.nonceCounter++).toString(36)}`,
    });
    const headers: Record<string, string> = { host: this.host, authorization };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    const result = await transport.request(method, `/1.5/${this.uid}${path}`, headers, body);
    return { ...result, ms: performance.now() - started };
  }
}
