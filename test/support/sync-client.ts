/**
 * A SyncStorage 1.5 client for tests and load tests: mints tokenlib tokens
 * with the master secret (as a token server would) and signs each request
 * with Hawk, then sends it either through Fastify's `app.inject()` or over
 * a real socket with `fetch`.
 *
 *   const client = new SyncClient({ masterSecret, uid: 7, transport: injectTransport(app) });
 *   const res = await client.post('/storage/bookmarks', [{ id: 'a', payload: 'x' }]);
 *   res.status; res.json(); res.headers['x-weave-timestamp'];
 *
 * Paths are relative to `/1.5/{uid}`; pass `{ raw: true }` for an absolute path.
 * Every signing input can be overridden, for the abuse tests.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildHawkHeader, payloadHash } from '../../src/server/auth/hawk.js';
import { mintToken, type MintedToken } from '../../src/server/auth/tokenlib.js';

export interface SyncResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
  json(): unknown;
}

export interface TransportRequest {
  method: string;
  /** Path with query. */
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** Sends a signed request somewhere. */
export type Transport = (request: TransportRequest) => Promise<SyncResponse>;

function response(status: number, headers: Record<string, string>, body: string): SyncResponse {
  return { status, headers, body, json: () => JSON.parse(body) as unknown };
}

function flatHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined)
      out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** Through `app.inject()`: no socket; `Host` comes from the signed URL. */
export function injectTransport(app: FastifyInstance): Transport {
  return async (request) => {
    const res = await app.inject({
      method: request.method as 'GET',
      url: request.url,
      headers: request.headers,
      ...(request.body === undefined ? {} : { payload: request.body }),
    });
    return response(res.statusCode, flatHeaders(res.headers), res.body);
  };
}

/** Over a real socket to `baseUrl` (e.g. "http://127.0.0.1:8123"). */
export function fetchTransport(baseUrl: string): Transport {
  return async (request) => {
    const res = await fetch(new URL(request.url, baseUrl), {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => (headers[name] = value));
    return response(res.status, headers, await res.text());
  };
}

export interface SyncClientOptions {
  masterSecret: string;
  uid: number;
  transport: Transport;
  /**
   * The origin the MAC is computed for (and sent as Host). Default
   * "http://localhost:8000". A path (".../sync") prefixes every request path.
   */
  baseUrl?: string;
  /** The token's `node`. Default `baseUrl`. */
  node?: string;
  /** Token lifetime from now, seconds (negative for an expired token). Default 3600. */
  durationSeconds?: number;
  /** Milliseconds since the epoch, for `ts` and expiry. Default `Date.now`. */
  clock?: () => number;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Body as a string, sent as is. Objects are JSON-encoded (see `post`/`put`). */
  body?: string;
  contentType?: string;
  /** `path` is absolute, not under /1.5/{uid}. */
  raw?: boolean;
  /** Send no Authorization header. */
  unsigned?: boolean;
  /** Override signing inputs (abuse tests): sign for another host/port/method/path. */
  sign?: {
    host?: string;
    port?: number;
    method?: string;
    resource?: string;
    ts?: string;
    nonce?: string;
    /** Hawk payload hash: true = of the body sent; a string = this one. */
    hash?: true | string;
  };
  /** Replace the token (e.g. a tampered one) while keeping the key. */
  tokenId?: string;
}

export class SyncClient {
  readonly uid: number;
  /** The token and its Hawk key; regenerate with `renewToken()`. */
  token: MintedToken;
  readonly #options: SyncClientOptions;
  readonly #clock: () => number;
  readonly #origin: URL;
  readonly #prefix: string;

  constructor(options: SyncClientOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#origin = new URL(options.baseUrl ?? 'http://localhost:8000');
    this.#prefix = this.#origin.pathname.replace(/\/+$/, '');
    this.uid = options.uid;
    this.token = this.renewToken();
  }

  /** Mint a fresh token (new salt, expiry from now). */
  renewToken(durationSeconds = this.#options.durationSeconds ?? 3600): MintedToken {
    this.token = mintToken(this.#options.masterSecret, {
      uid: this.uid,
      node: this.#options.node ?? this.#origin.origin + this.#prefix,
      expires: Math.floor(this.#clock() / 1000) + durationSeconds,
    });
    return this.token;
  }

  /** The Authorization header for a request (exposed for replay tests). */
  authorization(
    method: string,
    url: string,
    sign: RequestOptions['sign'] = {},
    body?: { contentType: string; text: string },
  ): string {
    const defaultPort = this.#origin.protocol === 'https:' ? 443 : 80;
    const hash = sign.hash === true ? payloadHash(body?.contentType, body?.text ?? '') : sign.hash;
    return buildHawkHeader(this.token.id, this.token.key, {
      hash,
      method: sign.method ?? method,
      resource: sign.resource ?? url,
      host: sign.host ?? this.#origin.hostname,
      port: sign.port ?? (this.#origin.port ? Number(this.#origin.port) : defaultPort),
      ts: sign.ts ?? String(Math.floor(this.#clock() / 1000)),
      nonce: sign.nonce ?? randomBytes(6).toString('base64url'),
    });
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<SyncResponse> {
    const url = options.raw ? path : `${this.#prefix}/1.5/${this.uid}${path}`;
    const headers: Record<string, string> = { host: this.#origin.host, ...options.headers };
    const contentType = options.contentType ?? 'application/json';
    if (!options.unsigned) {
      let auth = this.authorization(
        method,
        url,
        options.sign,
        options.body === undefined ? undefined : { contentType, text: options.body },
      );
      if (options.tokenId !== undefined)
        auth = auth.replace(/id="[^"]*"/, `id="${options.tokenId}"`);
      headers.authorization = auth;
    }
    if (options.body !== undefined) headers['content-type'] = contentType;
    return this.#options.transport({ method, url, headers, body: options.body });
  }

  get(path: string, options?: RequestOptions): Promise<SyncResponse> {
    return this.request('GET', path, options);
  }

  delete(path: string, options?: RequestOptions): Promise<SyncResponse> {
    return this.request('DELETE', path, options);
  }

  post(path: string, value: unknown, options: RequestOptions = {}): Promise<SyncResponse> {
    return this.request('POST', path, { ...options, body: JSON.stringify(value) });
  }

  put(path: string, value: unknown, options: RequestOptions = {}): Promise<SyncResponse> {
    return this.request('PUT', path, { ...options, body: JSON.stringify(value) });
  }
}
