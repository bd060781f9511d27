/**
 * Options of `MemcachedClient`: one defaults object, validated once, then frozen.
 */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { CacheInputError } from './errors.js';
import type { KetamaDistribution } from './ketama-ring.js';
import type { Serializer } from './serializer.js';

/** A server as an object; `"host:port"` or `"host:port:weight"` strings are accepted too. */
export interface ServerSpec {
  host: string;
  /** Default 11211. */
  port?: number;
  /** Share of the keys relative to the other servers (ketama-weighted). Default 1. */
  weight?: number;
}

export interface MemcachedClientOptions {
  /** The servers: "host:port", "host:port:weight", "[::1]:port", or `ServerSpec`s. Required. */
  servers: ReadonlyArray<string | ServerSpec>;
  /**
   * Key distribution. 'ketama-weighted' (default) = libmemcached KETAMA_WEIGHTED;
   * 'ketama' = libmemcached KETAMA with the MD5 key hash (not its default hash). See the README.
   */
  distribution?: KetamaDistribution;
  /** Connections per server. Default 1: pipelining makes one go far. */
  poolSize?: number;
  /** ms to establish a connection (TCP, TLS and auth). Default 1000. */
  connectTimeout?: number;
  /** ms for a server to answer a request. Default 1000. */
  requestTimeout?: number;
  /** Consecutive failures after which a server is marked dead. Default 2. */
  failureLimit?: number;
  /** ms a dead server is left alone before the next request probes it. Default 30000. */
  retryInterval?: number;
  /** While a server is dead, send its keys to the next live server on the ring. Default false: fail fast. */
  failover?: boolean;
  /** First delay before reconnecting after a failed connect, doubled each time. Default 50 ms. */
  reconnectDelay?: number;
  /** Cap of the reconnect delay. Default 2000 ms. */
  maxReconnectDelay?: number;
  /** Largest value in bytes after serialization (memcached's -I item size). Default 1 MiB. */
  maxValueSize?: number;
  /** Encoding of values that are neither Buffers nor strings. Default JSON (flags 6). See `serializer.ts`. */
  serializer?: Serializer;
  /**
   * Client flags of strings: 16 (default; pylibmc/python-memcached read it as
   * `str`) or 0 (plain bytes, which PHP's memcached reads as a string; this
   * client then reads strings back as Buffers).
   */
  stringFlag?: 16 | 0;
  /** TLS (memcached -Z): `true` or node `tls.connect` options (ca, servername, cert…). Default off. */
  tls?: boolean | TlsConnectionOptions;
  /** Text-protocol authentication (memcached -Y auth file). Default none. */
  auth?: { username: string; password: string };
}

export interface ResolvedServer {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
}

export interface ResolvedOptions {
  readonly servers: readonly ResolvedServer[];
  readonly distribution: KetamaDistribution;
  readonly poolSize: number;
  readonly connectTimeout: number;
  readonly requestTimeout: number;
  readonly failureLimit: number;
  readonly retryInterval: number;
  readonly failover: boolean;
  readonly reconnectDelay: number;
  readonly maxReconnectDelay: number;
  readonly maxValueSize: number;
  readonly serializer: Serializer | undefined;
  readonly stringFlag: 16 | 0 | undefined;
  readonly tls: TlsConnectionOptions | undefined;
  readonly auth: { readonly username: string; readonly password: string } | undefined;
}

export const DEFAULT_PORT = 11211;

const DEFAULTS = Object.freeze({
  distribution: 'ketama-weighted' as KetamaDistribution,
  poolSize: 1,
  connectTimeout: 1000,
  requestTimeout: 1000,
  failureLimit: 2,
  retryInterval: 30_000,
  failover: false,
  reconnectDelay: 50,
  maxReconnectDelay: 2000,
  maxValueSize: 1024 * 1024,
});

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < 1) {
    throw new CacheInputError(`option ${name} must be a positive integer, got ${String(value)}`);
  }
  return result;
}

/** "host:port", with IPv6 hosts in brackets ("[::1]:11211"). */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parse "host", "host:port", "host:port:weight", "[v6]:port[:weight]". */
export function parseServer(spec: string | ServerSpec): ResolvedServer {
  if (typeof spec !== 'string') {
    return {
      host: spec.host,
      port: positiveInteger('servers[].port', spec.port, DEFAULT_PORT),
      weight: positiveInteger('servers[].weight', spec.weight, 1),
    };
  }
  const match = /^(?:\[([^\]\s]+)\]|([^:\s]+))(?::(\d+))?(?::(\d+))?$/.exec(spec.trim());
  if (!match) throw new CacheInputError(`bad server address ${JSON.stringify(spec)}`);
  const host = (match[1] ?? match[2]) as string;
  const port = match[3] === undefined ? DEFAULT_PORT : Number(match[3]);
  const weight = match[4] === undefined ? 1 : Number(match[4]);
  return {
    host,
    port: positiveInteger('servers[].port', port, DEFAULT_PORT),
    weight: positiveInteger('servers[].weight', weight, 1),
  };
}

/** Validate and freeze the options; throws `CacheInputError` naming the bad option. */
export function resolveOptions(options: MemcachedClientOptions): ResolvedOptions {
  if (!options || !Array.isArray(options.servers) || options.servers.length === 0) {
    throw new CacheInputError('option servers must list at least one "host:port"');
  }
  const distribution = options.distribution ?? DEFAULTS.distribution;
  if (distribution !== 'ketama-weighted' && distribution !== 'ketama') {
    throw new CacheInputError(`option distribution must be 'ketama-weighted' or 'ketama'`);
  }
  const reconnectDelay = positiveInteger(
    'reconnectDelay',
    options.reconnectDelay,
    DEFAULTS.reconnectDelay,
  );
  return Object.freeze({
    servers: Object.freeze(options.servers.map(parseServer)),
    distribution,
    poolSize: positiveInteger('poolSize', options.poolSize, DEFAULTS.poolSize),
    connectTimeout: positiveInteger(
      'connectTimeout',
      options.connectTimeout,
      DEFAULTS.connectTimeout,
    ),
    requestTimeout: positiveInteger(
      'requestTimeout',
      options.requestTimeout,
      DEFAULTS.requestTimeout,
    ),
    failureLimit: positiveInteger('failureLimit', options.failureLimit, DEFAULTS.failureLimit),
    retryInterval: positiveInteger('retryInterval', options.retryInterval, DEFAULTS.retryInterval),
    failover: options.failover ?? DEFAULTS.failover,
    reconnectDelay,
    maxReconnectDelay: Math.max(
      reconnectDelay,
      positiveInteger('maxReconnectDelay', options.maxReconnectDelay, DEFAULTS.maxReconnectDelay),
    ),
    maxValueSize: positiveInteger('maxValueSize', options.maxValueSize, DEFAULTS.maxValueSize),
    serializer: options.serializer,
    stringFlag: options.stringFlag,
    tls: options.tls === true ? {} : options.tls || undefined,
    auth: options.auth ? Object.freeze({ ...options.auth }) : undefined,
  });
}
