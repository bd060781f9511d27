/**
 * One socket to one memcached server, pipelined: commands are written as they
 * come, many are in flight, and answers are matched in send order (memcached
 * answers a connection's requests in order). Everything queued in the same
 * tick leaves in one socket write — that, not more sockets, is where the
 * throughput is.
 *
 * The socket is opened on demand. A socket that dies fails only the commands
 * that were on it; the next command reconnects, after a backoff if connecting
 * itself failed (so a down server sees no reconnect storm). Each command has a
 * deadline; one timer per connection, armed for the oldest command, enforces it.
 */
import net from 'node:net';
import tls from 'node:tls';
import { formatAddress } from './client-options.js';
import { CacheClosedError, CacheTimeoutError, CacheUnavailableError } from './errors.js';
import type { QueuedCommand } from './meta-command.js';
import { MetaParser } from './meta-parser.js';

/** What a connection reports to its server's health tracking. */
export interface ConnectionHealth {
  failure(error: Error): void;
  success(): void;
}

export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** TLS options for `tls.connect`, or undefined for plain TCP. */
  readonly tls: tls.ConnectionOptions | undefined;
  readonly connectTimeout: number;
  readonly requestTimeout: number;
  /** Text-protocol authentication (memcached `-Y`), sent first on every new socket. */
  readonly auth: { readonly username: string; readonly password: string } | undefined;
  /** First reconnect delay after a failed connect; doubles per failure up to `maxReconnectDelay`. */
  readonly reconnectDelay: number;
  readonly maxReconnectDelay: number;
}

/** Values up to this size are copied into the text buffer rather than kept as separate Buffers. */
const INLINE_DATA_BYTES = 2048;

type State = 'idle' | 'connecting' | 'ready' | 'closed';

export class Connection {
  private state: State = 'idle';
  private socket: net.Socket | undefined;
  private readonly parser: MetaParser;
  /** Commands in send order; `head` is the oldest unanswered one. */
  private queue: Array<QueuedCommand | undefined> = [];
  private head = 0;
  /** Commands before this index have their deadline. */
  private stamped = 0;
  /** Bytes waiting for the next write: ASCII text, and Buffers for large data blocks. */
  private outText = '';
  private outParts: Buffer[] = [];
  private flushScheduled = false;
  private authPending = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private failedConnects = 0;
  private nextConnectAt = 0;
  private lastSocketError: Error | undefined;
  private drained: (() => void) | undefined;
  private readonly address: string;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly health: ConnectionHealth,
  ) {
    this.address = formatAddress(options.host, options.port);
    this.parser = new MetaParser((line, data) => this.dispatch(line, data));
  }

  /** Commands sent or queued and not yet answered. */
  get inFlight(): number {
    return this.queue.length - this.head;
  }

  /** Queue `command`; it settles itself (answer, error, or timeout). Never throws. */
  send(command: QueuedCommand): void {
    if (this.state === 'closed') {
      command.reject(new CacheClosedError('the client was closed'));
      return;
    }
    if (this.state === 'idle') {
      const now = Date.now();
      if (now < this.nextConnectAt) {
        command.reject(
          new CacheUnavailableError(
            `${this.address}: reconnecting after ${this.failedConnects} failed connect(s); next attempt in ${this.nextConnectAt - now} ms`,
            this.address,
            { cause: this.lastSocketError },
          ),
        );
        return;
      }
      this.connect();
    }
    // The deadline is stamped when the batch is written (one clock read per
    // write, not per request); commands waiting for a connection get theirs now.
    this.queue.push(command);
    this.append(command);
    if (this.state === 'ready') this.scheduleFlush();
    else {
      const now = Date.now();
      command.deadline = now + this.options.requestTimeout;
      if (this.deadlineTimer === undefined) this.armDeadline(now);
    }
  }

  /** Allow an immediate connect attempt (the server's dead interval just ended). */
  allowReconnect(): void {
    this.nextConnectAt = 0;
  }

  /** Fail everything on this socket with `error` and drop it. */
  destroy(error: Error, reportFailure = true): void {
    const wasConnecting = this.state === 'connecting';
    const socket = this.socket;
    this.socket = undefined;
    if (this.state !== 'closed') this.state = 'idle';
    clearTimeout(this.connectTimer);
    clearTimeout(this.deadlineTimer);
    this.connectTimer = undefined;
    this.deadlineTimer = undefined;
    socket?.destroy();
    const pending = this.queue;
    const head = this.head;
    const hadWork = pending.length > head;
    this.queue = [];
    this.head = 0;
    this.stamped = 0;
    this.outText = '';
    this.outParts = [];
    this.authPending = false;
    this.parser.reset();
    for (let i = head; i < pending.length; i++) pending[i]?.reject(error);
    this.resolveDrained();
    if (wasConnecting) {
      this.failedConnects++;
      const delay = Math.min(
        this.options.reconnectDelay * 2 ** (this.failedConnects - 1),
        this.options.maxReconnectDelay,
      );
      this.nextConnectAt = Date.now() + delay;
    }
    if (reportFailure && (socket !== undefined || hadWork)) this.health.failure(error);
  }

  /** Let in-flight commands finish (bounded by the request timeout), then close for good. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.inFlight > 0 && this.state !== 'idle') {
      this.flush();
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, this.options.requestTimeout).unref();
      });
    }
    this.state = 'closed';
    this.destroy(new CacheClosedError('the client was closed'), false);
  }

  private connect(): void {
    this.state = 'connecting';
    const { host, port } = this.options;
    const socket = this.options.tls
      ? tls.connect({ ...this.options.tls, host, port })
      : net.connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    this.lastSocketError = undefined;
    this.connectTimer = setTimeout(() => {
      if (this.socket !== socket) return;
      this.destroy(
        new CacheTimeoutError(
          `connecting to ${this.address} timed out after ${this.options.connectTimeout} ms (option connectTimeout)`,
        ),
      );
    }, this.options.connectTimeout);
    socket.once(this.options.tls ? 'secureConnect' : 'connect', () => this.onConnected(socket));
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      try {
        this.parser.feed(chunk);
        this.health.success();
      } catch (error) {
        this.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('error', (error) => {
      this.lastSocketError = error;
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      const cause = this.lastSocketError;
      this.destroy(
        new CacheUnavailableError(
          `connection to ${this.address} ${this.state === 'connecting' ? 'failed' : 'closed'}${cause ? `: ${cause.message}` : ''}`,
          this.address,
          { cause },
        ),
      );
    });
  }

  private onConnected(socket: net.Socket): void {
    if (this.socket !== socket) return;
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.failedConnects = 0;
    this.state = 'ready';
    const auth = this.options.auth;
    if (auth) {
      // protocol.txt "Authentication": a `set` with any key whose data is
      // "username password"; it must precede everything else on the socket.
      const token = Buffer.from(`${auth.username} ${auth.password}`, 'utf8');
      const command = `set _ 0 0 ${token.length}\r\n`;
      this.outParts.unshift(Buffer.from(command, 'latin1'), token, Buffer.from('\r\n'));
      this.authPending = true;
    }
    this.flush();
  }

  private append(command: QueuedCommand): void {
    const data = command.data;
    if (data === undefined) {
      this.outText += command.head;
    } else if (data.length <= INLINE_DATA_BYTES) {
      // latin1 maps bytes 1:1, so small values ride in the text buffer.
      this.outText += command.head + data.toString('latin1') + '\r\n';
    } else {
      this.outText += command.head;
      this.outParts.push(Buffer.from(this.outText, 'latin1'), data);
      this.outText = '\r\n';
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    if (this.state !== 'ready' || socket === undefined) return;
    const now = Date.now();
    const deadline = now + this.options.requestTimeout;
    const queue = this.queue;
    for (let i = this.stamped; i < queue.length; i++) {
      const command = queue[i];
      if (command !== undefined && command.deadline === 0) command.deadline = deadline;
    }
    this.stamped = queue.length;
    if (this.deadlineTimer === undefined) this.armDeadline(now);
    if (this.outParts.length === 0) {
      if (this.outText.length === 0) return;
      socket.write(this.outText, 'latin1');
    } else {
      if (this.outText.length > 0) this.outParts.push(Buffer.from(this.outText, 'latin1'));
      socket.write(Buffer.concat(this.outParts));
      this.outParts = [];
    }
    this.outText = '';
  }

  private dispatch(line: string, data: Buffer | undefined): void {
    if (this.authPending) {
      this.authPending = false;
      if (line !== 'STORED') {
        throw new CacheUnavailableError(
          `${this.address}: authentication failed (option auth): ${line}`,
          this.address,
        );
      }
      return;
    }
    const command = this.queue[this.head];
    if (command === undefined) {
      throw new CacheUnavailableError(`${this.address}: unsolicited response ${line.slice(0, 80)}`);
    }
    if (command.onResponse(line, data)) {
      this.queue[this.head] = undefined;
      this.head++;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
        this.stamped = 0;
        this.resolveDrained();
      } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.stamped = Math.max(0, this.stamped - this.head);
        this.head = 0;
      }
    }
  }

  private resolveDrained(): void {
    const drained = this.drained;
    this.drained = undefined;
    drained?.();
  }

  /** Arm the timer for the oldest unsettled command's deadline. */
  private armDeadline(now: number): void {
    let i = this.head;
    while (i < this.queue.length && this.queue[i]?.settled) i++;
    const oldest = this.queue[i];
    // Not yet written (deadline 0): the flush that writes it arms the timer.
    if (oldest === undefined || oldest.deadline === 0) return;
    this.deadlineTimer = setTimeout(() => this.expire(), Math.max(0, oldest.deadline - now) + 1);
    this.deadlineTimer.unref();
  }

  private expire(): void {
    this.deadlineTimer = undefined;
    const now = Date.now();
    let expired = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const command = this.queue[i];
      if (command === undefined || command.settled) continue;
      if (command.deadline > now || command.deadline === 0) break;
      // The command stays queued: its answer may still come and must be consumed in order.
      command.reject(
        new CacheTimeoutError(
          `${this.address} did not answer within ${this.options.requestTimeout} ms (option requestTimeout)`,
        ),
      );
      expired++;
    }
    if (expired > 0)
      this.health.failure(new CacheTimeoutError(`${this.address}: request timed out`));
    if (this.deadlineTimer === undefined && this.state !== 'closed') this.armDeadline(now);
  }
}
