/**
 * The load generator's HTTP client: `node:http` over keep-alive sockets
 * (undici's Agent is not importable without the package, and global fetch
 * costs more per request). Every request resolves, never rejects: a socket
 * error or timeout comes back as `status: 0` with an `error` code, so the
 * caller can count it like a status.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpResult {
  /** HTTP status, or 0 when no response arrived. */
  status: number;
  /** Lower-case header names. */
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Why no response arrived: ECONNREFUSED, ECONNRESET, TIMEOUT, … */
  error?: string;
}

export interface HttpTransportOptions {
  /** "http://127.0.0.1:8000" (a path prefix is kept). */
  baseUrl: string;
  /** Sockets kept open to the server. Default 64. */
  maxSockets?: number;
  /** ms before a request is abandoned as TIMEOUT. Default 30000. */
  timeoutMs?: number;
}

export class HttpTransport {
  readonly origin: URL;
  private readonly agent: http.Agent;
  private readonly client: typeof http | typeof https;
  private readonly prefix: string;
  private readonly timeoutMs: number;

  constructor(options: HttpTransportOptions) {
    this.origin = new URL(options.baseUrl);
    const secure = this.origin.protocol === 'https:';
    this.client = secure ? https : http;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.prefix = this.origin.pathname.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The port a Hawk MAC covers for this origin. */
  get port(): number {
    if (this.origin.port) return Number(this.origin.port);
    return this.origin.protocol === 'https:' ? 443 : 80;
  }

  /** `path` is absolute on the server (with query); the prefix of `baseUrl` is added. */
  request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<HttpResult> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: HttpResult): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const fail = (error: NodeJS.ErrnoException | Error): void =>
        finish({
          status: 0,
          headers: {},
          body: '',
          error: ('code' in error && error.code) || error.message,
        });
      const outgoing: Record<string, string | number> = { ...headers };
      if (body !== undefined) outgoing['content-length'] = Buffer.byteLength(body);
      const req = this.client.request(
        {
          agent: this.agent,
          protocol: this.origin.protocol,
          hostname: this.origin.hostname,
          port: this.port,
          method,
          path: this.prefix + path,
          headers: outgoing,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', fail);
          // The socket closed before the whole body arrived.
          res.on('close', () => {
            if (!res.complete) fail(Object.assign(new Error('ECONNRESET'), { code: 'ECONNRESET' }));
          });
          res.on('end', () =>
            finish({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.setTimeout(this.timeoutMs, () => {
        const timeout = Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' });
        fail(timeout);
        req.destroy(timeout);
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  /** Close the kept-alive sockets. */
  close(): void {
    this.agent.destroy();
  }
}
