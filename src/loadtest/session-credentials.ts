/**
 * Where a simulated client's Hawk credentials come from: minted here with
 * the master secret (as the token server would issue them), or asked of a
 * token server with an FxA OAuth token, as Firefox does at the start of a
 * sync (`GET /1.0/sync/1.5`, API.md "Token server"). A token server answer
 * also names the storage node (`api_endpoint`), which may be another host.
 */
import { mintToken } from '../server/auth/tokenlib.js';
import type { FxaAccount } from './fxa-accounts.js';
import type { HttpTransport } from './http-transport.js';
import type { FailureKey } from './request-stats.js';

export interface SessionCredentials {
  id: string;
  key: string;
  uid: number;
  /** The storage node's URL: `api_endpoint` without `/1.5/<uid>`. */
  node: string;
  /** Milliseconds since the epoch. */
  expiresMs: number;
}

/** The token server's answer, timed; `failure` says why it is unusable. */
export interface TokenRequest {
  status: number;
  ms: number;
  failure?: FailureKey;
}

export interface CredentialSource {
  /**
   * New credentials. Never rejects: a token server that refuses or does not
   * answer comes back as `request.failure` without credentials. `request` is
   * absent when no request was made (minted).
   */
  obtain(): Promise<{ credentials?: SessionCredentials; request?: TokenRequest }>;
}

export class MintedCredentials implements CredentialSource {
  constructor(
    private readonly options: {
      masterSecret: string;
      uid: number;
      node: string;
      tokenSeconds: number;
      clock: () => number;
    },
  ) {}

  mint(): SessionCredentials {
    const { masterSecret, uid, node, tokenSeconds, clock } = this.options;
    const expires = Math.floor(clock() / 1000) + tokenSeconds;
    const token = mintToken(masterSecret, { uid, node, expires });
    return { id: token.id, key: token.key, uid, node, expiresMs: expires * 1000 };
  }

  obtain(): Promise<{ credentials: SessionCredentials }> {
    return Promise.resolve({ credentials: this.mint() });
  }
}

const API_ENDPOINT = /^(https?:\/\/.+)\/1\.5\/(\d{1,10})$/;

interface TokenAnswer {
  id?: unknown;
  key?: unknown;
  uid?: unknown;
  api_endpoint?: unknown;
  duration?: unknown;
}

/** The answer's credentials, or undefined when it is not a token server's. */
function readAnswer(body: string, now: number): SessionCredentials | undefined {
  const answer = JSON.parse(body) as TokenAnswer;
  const { id, key, uid, duration } = answer;
  const endpoint =
    typeof answer.api_endpoint === 'string' ? API_ENDPOINT.exec(answer.api_endpoint) : null;
  if (typeof id !== 'string' || typeof key !== 'string' || typeof duration !== 'number')
    return undefined;
  if (!endpoint || Number(endpoint[2]) !== uid) return undefined;
  return { id, key, uid, node: endpoint[1] as string, expiresMs: now + duration * 1000 };
}

export class TokenserverCredentials implements CredentialSource {
  constructor(
    private readonly options: {
      /** To the token server (its URL's path is the prefix of `/1.0/sync/1.5`). */
      transport: HttpTransport;
      account: FxaAccount;
      clock: () => number;
    },
  ) {}

  async obtain(): Promise<{ credentials?: SessionCredentials; request: TokenRequest }> {
    const { transport, account, clock } = this.options;
    const headers = {
      host: transport.origin.host,
      authorization: `Bearer ${await account.accessToken()}`,
      'x-keyid': account.keyId,
      accept: 'application/json',
    };
    const started = performance.now();
    const res = await transport.request('GET', '/1.0/sync/1.5', headers);
    const ms = performance.now() - started;
    if (res.status !== 200) {
      const failure = res.status === 0 ? `error:${res.error ?? 'unknown'}` : String(res.status);
      return { request: { status: res.status, ms, failure } };
    }
    let credentials: SessionCredentials | undefined;
    try {
      credentials = readAnswer(res.body, clock());
    } catch {
      credentials = undefined;
    }
    if (!credentials) return { request: { status: 200, ms, failure: '200 unreadable body' } };
    return { credentials, request: { status: 200, ms } };
  }
}
