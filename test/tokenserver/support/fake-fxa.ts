/**
 * A fake Firefox Accounts OAuth server for the tests: a real HTTP server on
 * loopback with an RS256 key made here, serving `GET /v1/jwks` and
 * `POST /v1/verify` as FxA does, and minting access tokens as FxA's
 * `jwt_access_token.js` writes them (typ `at+JWT`, `sub`, `scope`,
 * `fxa-generation`). Switches make it serve no usable key, fail, or hang,
 * and it counts the calls it got.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';

export const OLDSYNC = 'https://identity.mozilla.com/apps/oldsync';

export interface AccessTokenOptions {
  fxaUid?: string;
  generation?: number | null;
  scope?: string;
  /** Seconds from now; negative for an expired token. Default 3600. */
  expiresIn?: number;
  typ?: string;
  /** Sign with this key instead (e.g. `otherKey`). */
  key?: CryptoKey;
  kid?: string;
}

export type JwksMode = 'keys' | 'empty' | 'error' | 'hang';
export type VerifyMode = 'ok' | 'reject' | 'error' | 'hang';

export class FakeFxa {
  readonly calls = { jwks: 0, verify: 0 };
  jwksMode: JwksMode = 'keys';
  verifyMode: VerifyMode = 'ok';
  /** What /v1/verify answers for opaque (non-JWT) tokens it issued. */
  readonly opaque = new Map<string, { user: string; scope: string[]; generation?: number }>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    readonly publicJwk: JWK,
    /** A second key FxA does not publish. */
    readonly otherKey: CryptoKey,
    readonly otherPublicJwk: JWK,
  ) {}

  static async start(): Promise<FakeFxa> {
    const main = await generateKeyPair('RS256', { extractable: true });
    const other = await generateKeyPair('RS256', { extractable: true });
    const publicJwk = { ...(await exportJWK(main.publicKey)), kid: 'fake-main', alg: 'RS256' };
    const otherPublicJwk = { ...(await exportJWK(other.publicKey)), kid: 'fake-other' };
    const ref: { fxa?: FakeFxa } = {};
    const server = createServer((request, response) => {
      void ref.fxa!.handle(request).then(
        ({ status, body }) => {
          if (status === 0) return; // hang: never answer
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end(JSON.stringify(body));
        },
        () => {
          response.writeHead(500);
          response.end();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fxa = new FakeFxa(
      server,
      `http://127.0.0.1:${port}`,
      main.privateKey,
      main.publicKey,
      publicJwk,
      other.privateKey,
      otherPublicJwk,
    );
    ref.fxa = fxa;
    return fxa;
  }

  async accessToken(options: AccessTokenOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      scope: options.scope ?? `profile ${OLDSYNC}`,
      client_id: '5882386c6d801776',
    };
    const generation = options.generation === undefined ? 1_700_000_000_000 : options.generation;
    if (generation !== null) claims['fxa-generation'] = generation;
    return new SignJWT(claims)
      .setProtectedHeader({
        alg: 'RS256',
        typ: options.typ ?? 'at+JWT',
        kid: options.kid ?? 'fake-main',
      })
      .setSubject(options.fxaUid ?? randomBytes(16).toString('hex'))
      .setIssuedAt(now)
      .setExpirationTime(now + (options.expiresIn ?? 3600))
      .setIssuer(this.url)
      .sign(options.key ?? this.privateKey);
  }

  /** An opaque token only /v1/verify knows. */
  opaqueToken(user: string, generation?: number, scope: string[] = [OLDSYNC]): string {
    const token = randomBytes(32).toString('hex');
    this.opaque.set(token, { user, scope, ...(generation === undefined ? {} : { generation }) });
    return token;
  }

  private async handle(request: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = (request.url ?? '').split('?')[0];
    if (request.method === 'GET' && path === '/v1/jwks') {
      this.calls.jwks++;
      if (this.jwksMode === 'hang') return { status: 0, body: null };
      if (this.jwksMode === 'error') return { status: 500, body: { message: 'down' } };
      return { status: 200, body: { keys: this.jwksMode === 'keys' ? [this.publicJwk] : [] } };
    }
    if (request.method === 'POST' && path === '/v1/verify') {
      this.calls.verify++;
      if (this.verifyMode === 'hang') return { status: 0, body: null };
      if (this.verifyMode === 'error') return { status: 503, body: { message: 'down' } };
      const { token } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token: string };
      const known = this.opaque.get(token);
      if (known && this.verifyMode === 'ok') return { status: 200, body: known };
      try {
        if (this.verifyMode !== 'ok') throw new Error('reject');
        const { payload } = await jwtVerify(token, this.publicKey);
        return {
          status: 200,
          body: {
            user: payload.sub,
            scope: String(payload.scope).split(' '),
            generation: payload['fxa-generation'],
          },
        };
      } catch {
        return { status: 400, body: { code: 400, errno: 108, message: 'Invalid token' } };
      }
    }
    return { status: 404, body: { message: 'not found' } };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
