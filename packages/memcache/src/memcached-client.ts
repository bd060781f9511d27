/**
 * The memcached client: `CacheStore` over memcached's meta protocol
 * (protocol.txt "Meta Commands": mg, ms, md, ma, mn), on one or many servers
 * spread by ketama hashing as libmemcached KETAMA_WEIGHTED (or KETAMA + MD5) does.
 *
 *   const client = new MemcachedClient({ servers: ['10.0.0.1:11211', '10.0.0.2:11211:2'] });
 *   await client.set('k', { a: 1 }, { ttl: 60 });
 *
 * Every method returns a promise and never throws synchronously; failures are
 * the typed errors of `errors.ts`.
 *
 * - Keys: printable ASCII keys up to 250 bytes go as they are; other keys up to
 *   186 bytes go base64 (meta flag `b`), byte for byte; longer ones are stored
 *   under a SHA-256 of the key (see `key-encoding.ts` for the exact, collision-
 *   free mapping). No key can inject a command.
 * - Values: Buffers as they are (client flags 0), strings as UTF-8 (16), anything
 *   else through the serializer (JSON, 6) — flags pylibmc, python-memcached and
 *   PHP's memcached read right (`serializer.ts`); unknown flags read as
 *   Buffers. Values over `maxValueSize` are refused before a byte is sent.
 * - Requests are pipelined: everything issued in one tick leaves in one write
 *   per connection, and answers are matched in order and by opaque token.
 */
import type {
  CacheKey,
  CacheStore,
  CasToken,
  CounterOptions,
  DeleteOptions,
  LeaseOptions,
  LeaseResult,
  SetOptions,
  ValueWithCas,
} from './cache-store.js';
import {
  resolveOptions,
  type MemcachedClientOptions,
  type ResolvedOptions,
} from './client-options.js';
import {
  CacheClosedError,
  CacheInputError,
  CacheProtocolError,
  CacheUnavailableError,
  ValueTooLargeError,
} from './errors.js';
import { ketamaKeyHash, ketamaServerName, KetamaRing } from './ketama-ring.js';
import { encodeKey, isPlainAsciiString, type EncodedKey } from './key-encoding.js';
import {
  BatchGetRequest,
  type MetaCommand,
  MetaRequest,
  StatsRequest,
  TextRequest,
} from './meta-command.js';
import { MetaReplies } from './meta-replies.js';
import { checkCas, checkCounter, checkTtl } from './request-arguments.js';
import { ServerPool } from './server-pool.js';
import { ValueCodec } from './serializer.js';

type StoreMode = 'S' | 'E' | 'R' | 'A' | 'P';

export class MemcachedClient implements CacheStore {
  private readonly options: ResolvedOptions;
  private readonly replies: MetaReplies;
  private readonly servers: ServerPool[];
  private readonly ring: KetamaRing | undefined;
  private readonly isAlive = (index: number): boolean =>
    (this.servers[index] as ServerPool).isAlive();
  private closed = false;
  private lastLease: {
    vivifyTtl: number | undefined;
    recacheThreshold: number | undefined;
    flags: string;
  } = { vivifyTtl: undefined, recacheThreshold: undefined, flags: '' };

  constructor(options: MemcachedClientOptions) {
    this.options = resolveOptions(options);
    this.replies = new MetaReplies(
      new ValueCodec({
        serializer: this.options.serializer,
        stringFlag: this.options.stringFlag,
      }),
    );
    this.servers = this.options.servers.map(
      (server) =>
        new ServerPool({
          host: server.host,
          port: server.port,
          tls: this.options.tls,
          connectTimeout: this.options.connectTimeout,
          requestTimeout: this.options.requestTimeout,
          auth: this.options.auth,
          reconnectDelay: this.options.reconnectDelay,
          maxReconnectDelay: this.options.maxReconnectDelay,
          poolSize: this.options.poolSize,
          failureLimit: this.options.failureLimit,
          retryInterval: this.options.retryInterval,
        }),
    );
    this.ring =
      this.servers.length > 1
        ? new KetamaRing(
            this.options.servers.map((s) => ({
              ringName: ketamaServerName(s.host, s.port),
              weight: s.weight,
            })),
            this.options.distribution,
          )
        : undefined;
  }

  /** Whether a dead server's keys go to the next live one (option `failover`). */
  get failsOver(): boolean {
    return this.options.failover;
  }

  /** The "host:port" of the server that holds `key` now (after failover, if enabled). */
  serverFor(key: CacheKey): string {
    return this.pick(encodeKey(key)).address;
  }

  get<T = unknown>(key: CacheKey): Promise<T | undefined> {
    return this.meta(key, 'mg', '', 'v f', this.replies.value) as Promise<T | undefined>;
  }

  gets<T = unknown>(key: CacheKey): Promise<ValueWithCas<T> | undefined> {
    return this.meta(key, 'mg', '', 'v f c', this.replies.valueWithCas) as Promise<
      ValueWithCas<T> | undefined
    >;
  }

  async getMulti<T = unknown>(keys: readonly CacheKey[]): Promise<Array<T | undefined>> {
    this.checkOpen();
    const results = new Array<T | undefined>(keys.length).fill(undefined);
    if (keys.length === 0) return results;
    // One batch per server; each remembers where its keys sit in `keys`.
    const batches = new Map<ServerPool, { keys: EncodedKey[]; positions: number[] }>();
    for (let i = 0; i < keys.length; i++) {
      const encoded = encodeKey(keys[i] as CacheKey);
      const server = this.pick(encoded);
      let batch = batches.get(server);
      if (!batch) batches.set(server, (batch = { keys: [], positions: [] }));
      batch.keys.push(encoded);
      batch.positions.push(i);
    }
    const sent = [...batches].map(async ([server, batch]) => {
      const request = new BatchGetRequest(batch.keys);
      server.send(request);
      const values = await request.promise;
      for (let j = 0; j < values.length; j++) {
        const data = values[j];
        if (data !== undefined) {
          results[batch.positions[j] as number] = this.replies.codec.decode(
            data,
            request.flagsAt(j),
          ) as T;
        }
      }
    });
    await Promise.all(sent);
    return results;
  }

  set(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.store(key, value, 'S', options);
  }

  add(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.store(key, value, 'E', options);
  }

  replace(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.store(key, value, 'R', options);
  }

  append(key: CacheKey, data: string | Buffer): Promise<boolean> {
    return this.storeRaw(key, data, 'A');
  }

  prepend(key: CacheKey, data: string | Buffer): Promise<boolean> {
    return this.storeRaw(key, data, 'P');
  }

  cas(key: CacheKey, value: unknown, cas: CasToken, options?: SetOptions): Promise<boolean> {
    return this.store(key, value, 'S', options, cas);
  }

  delete(key: CacheKey, options?: DeleteOptions): Promise<boolean> {
    let flags = '';
    try {
      if (options?.cas !== undefined) flags = `C${checkCas(options.cas)}`;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.meta(key, 'md', '', flags, this.replies.done);
  }

  incr(key: CacheKey, delta = 1, options?: CounterOptions): Promise<number | undefined> {
    return this.counter(key, '+', delta, options);
  }

  decr(key: CacheKey, delta = 1, options?: CounterOptions): Promise<number | undefined> {
    return this.counter(key, '-', delta, options);
  }

  touch(key: CacheKey, ttl: number): Promise<boolean> {
    try {
      return this.meta(key, 'mg', '', `T${checkTtl(ttl)}`, this.replies.done);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  getAndTouch<T = unknown>(key: CacheKey, ttl: number): Promise<T | undefined> {
    try {
      return this.meta(key, 'mg', '', `v f T${checkTtl(ttl)}`, this.replies.value) as Promise<
        T | undefined
      >;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  lease<T = unknown>(key: CacheKey, options: LeaseOptions): Promise<LeaseResult<T>> {
    try {
      return this.meta(
        key,
        'mg',
        '',
        this.leaseFlags(options?.vivifyTtl, options.recacheThreshold),
        this.replies.lease,
      ) as Promise<LeaseResult<T>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * protocol.txt meta "N(token)": vivify on miss; "R(token)": win the recache
   * when the TTL is below the token; W/X/Z come back as flags. N/R go before
   * t: memcached applies flags in order, and t should see the vivified TTL.
   * The last flags string is kept: a toolkit's getOrSet leases with the same
   * two numbers call after call, and this is its hit path.
   */
  private leaseFlags(vivifyTtl: number | undefined, recacheThreshold: number | undefined): string {
    const last = this.lastLease;
    if (last.vivifyTtl === vivifyTtl && last.recacheThreshold === recacheThreshold && last.flags) {
      return last.flags;
    }
    const vivify = checkTtl(vivifyTtl, 'vivifyTtl');
    const recache =
      recacheThreshold === undefined ? '' : ` R${checkTtl(recacheThreshold, 'recacheThreshold')}`;
    const flags = `N${vivify}${recache} v f c t`;
    this.lastLease = { vivifyTtl, recacheThreshold, flags };
    return flags;
  }

  invalidate(key: CacheKey, ttl: number): Promise<boolean> {
    // protocol.txt meta delete "I": mark stale instead of removing; "T" sets its TTL.
    try {
      return this.meta(key, 'md', '', `I T${checkTtl(ttl)}`, this.replies.done);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async flush(delay?: number): Promise<void> {
    const seconds = checkTtl(delay, 'delay');
    await this.everyServer(
      () =>
        new TextRequest(seconds ? `flush_all ${seconds}\r\n` : 'flush_all\r\n', (line) => {
          if (line !== 'OK') throw new CacheProtocolError(`flush_all answered ${line}`);
        }),
    );
  }

  stats(): Promise<Record<string, Record<string, string>>> {
    return this.everyServer(() => new StatsRequest());
  }

  version(): Promise<Record<string, string>> {
    return this.everyServer(
      () =>
        new TextRequest('version\r\n', (line) => {
          if (!line.startsWith('VERSION '))
            throw new CacheProtocolError(`version answered ${line}`);
          return line.slice(8);
        }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.servers.map((server) => server.close()));
  }

  // ---- plumbing ----

  private checkOpen(): void {
    if (this.closed) throw new CacheClosedError('the client was closed');
  }

  /** The server for `key`: its ketama owner, or (failover) the next live one. */
  private pick(key: EncodedKey): ServerPool {
    const ring = this.ring;
    if (ring === undefined) return this.servers[0] as ServerPool;
    const hash = ketamaKeyHash(key.hashInput);
    const index = ring.serverFor(hash, this.options.failover ? this.isAlive : undefined);
    if (index === -1) throw new CacheUnavailableError('every memcached server is marked dead');
    return this.servers[index] as ServerPool;
  }

  /**
   * Send `<verb> <key><lead> [b] <flags>` (plus `data`) to the key's server and
   * return the request's promise. `lead` holds positional arguments that must
   * precede the flags (ms's data length). Never throws: failures reject.
   */
  private meta<T>(
    key: CacheKey,
    verb: string,
    lead: string,
    flags: string,
    interpret: (status: string, line: string, data: Buffer | undefined) => T,
    data?: Buffer,
  ): Promise<T> {
    if (this.closed) return Promise.reject(new CacheClosedError('the client was closed'));
    let token: string;
    let binary = '';
    let server: ServerPool;
    if (this.ring === undefined && typeof key === 'string' && isPlainAsciiString(key)) {
      // Hot path: one server and a key that goes on the wire as it is.
      token = key;
      server = this.servers[0] as ServerPool;
    } else {
      try {
        const encoded = encodeKey(key);
        server = this.pick(encoded);
        token = encoded.token;
        if (encoded.binary) binary = ' b';
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const tail = flags.length > 0 ? ` ${flags}` : '';
    const request = new MetaRequest(`${verb} ${token}${lead}${binary}${tail}`, interpret, data);
    server.send(request);
    return request.promise;
  }

  private store(
    key: CacheKey,
    value: unknown,
    mode: StoreMode,
    options?: SetOptions,
    cas?: CasToken,
  ): Promise<boolean> {
    let flags: string;
    let data: Buffer;
    try {
      const ttl = checkTtl(options?.ttl);
      const encoded = this.replies.codec.encode(value);
      data = encoded.data;
      this.checkSize(data);
      flags = `T${ttl} F${encoded.flags}`;
      if (mode !== 'S') flags += ` M${mode}`;
      if (cas !== undefined) flags += ` C${checkCas(cas)}`;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.meta(key, 'ms', ` ${data.length}`, flags, this.replies.done, data);
  }

  private storeRaw(key: CacheKey, raw: string | Buffer, mode: 'A' | 'P'): Promise<boolean> {
    let data: Buffer;
    try {
      if (typeof raw !== 'string' && !Buffer.isBuffer(raw)) {
        throw new CacheInputError('append/prepend data must be a string or a Buffer');
      }
      data = this.replies.codec.encodeRaw(raw);
      this.checkSize(data);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.meta(key, 'ms', ` ${data.length}`, `M${mode}`, this.replies.done, data);
  }

  private checkSize(data: Buffer): void {
    if (data.length > this.options.maxValueSize) {
      throw new ValueTooLargeError(data.length, this.options.maxValueSize);
    }
  }

  private counter(
    key: CacheKey,
    direction: '+' | '-',
    delta: number,
    options?: CounterOptions,
  ): Promise<number | undefined> {
    let flags: string;
    try {
      flags = `v D${checkCounter(delta, 'delta')}`;
      if (direction === '-') flags += ' MD';
      if (options?.initial !== undefined) {
        // protocol.txt meta arithmetic: N(token) vivifies on miss with that TTL,
        // J(token) is the initial value (returned as is, delta not applied).
        flags += ` N${checkTtl(options.ttl)} J${checkCounter(options.initial, 'initial')}`;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.meta(key, 'ma', '', flags, this.replies.counter);
  }

  /** Run one request per server; results keyed by "host:port". */
  private async everyServer<T>(build: () => MetaCommand<T>): Promise<Record<string, T>> {
    this.checkOpen();
    const entries = await Promise.all(
      this.servers.map(async (server) => {
        const request = build();
        server.send(request);
        return [server.address, await request.promise] as const;
      }),
    );
    return Object.fromEntries(entries);
  }
}
