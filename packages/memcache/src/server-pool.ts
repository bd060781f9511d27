/**
 * One memcached server: its connection pool and its health. A server whose
 * requests fail `failureLimit` times in a row (connect errors, lost sockets,
 * timeouts) is marked dead for `retryInterval` ms, as libmemcached's
 * server_failure_limit / retry_timeout do: while dead, its requests fail at
 * once (or the client sends them elsewhere, see `failover`) instead of each
 * waiting for a timeout. When the interval ends, the next request is the probe.
 */
import { formatAddress } from './client-options.js';
import { Connection, type ConnectionOptions } from './connection.js';
import { CacheUnavailableError } from './errors.js';
import type { QueuedCommand } from './meta-command.js';

export interface ServerPoolOptions extends ConnectionOptions {
  readonly poolSize: number;
  readonly failureLimit: number;
  readonly retryInterval: number;
}

export class ServerPool {
  /** "host:port", the key of this server in `stats()` and `version()`. */
  readonly address: string;
  private readonly connections: Connection[] = [];
  private next = 0;
  private failures = 0;
  private deadUntil = 0;
  private lastError: Error | undefined;

  constructor(private readonly options: ServerPoolOptions) {
    this.address = formatAddress(options.host, options.port);
    const health = {
      failure: (error: Error) => this.onFailure(error),
      success: () => {
        this.failures = 0;
      },
    };
    for (let i = 0; i < options.poolSize; i++) {
      this.connections.push(new Connection(options, health));
    }
  }

  /** False while the server is marked dead. */
  isAlive(now = Date.now()): boolean {
    return this.deadUntil <= now;
  }

  /** Send `command` on one of the pool's connections, or fail it fast if the server is dead. */
  send(command: QueuedCommand): void {
    if (this.deadUntil !== 0) {
      const now = Date.now();
      if (now < this.deadUntil) {
        command.reject(
          new CacheUnavailableError(
            `${this.address} is marked dead for ${this.deadUntil - now} more ms after ${this.failures} failures (options failureLimit, retryInterval)`,
            this.address,
            { cause: this.lastError },
          ),
        );
        return;
      }
      // The dead interval is over: let the next request probe the server.
      this.deadUntil = 0;
      for (const connection of this.connections) connection.allowReconnect();
    }
    const connections = this.connections;
    let connection = connections[0] as Connection;
    if (connections.length > 1) {
      connection = connections[this.next] as Connection;
      this.next = (this.next + 1) % connections.length;
    }
    connection.send(command);
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((connection) => connection.close()));
  }

  private onFailure(error: Error): void {
    this.lastError = error;
    this.failures++;
    if (this.failures < this.options.failureLimit || this.deadUntil > Date.now()) return;
    this.deadUntil = Date.now() + this.options.retryInterval;
    const dead = new CacheUnavailableError(
      `${this.address} marked dead for ${this.options.retryInterval} ms after ${this.failures} failures: ${error.message}`,
      this.address,
      { cause: error },
    );
    for (const connection of this.connections) connection.destroy(dead, false);
  }
}
