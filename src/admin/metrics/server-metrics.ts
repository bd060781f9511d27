/**
 * The server's Prometheus metrics, in a registry of their own (never
 * prom-client's global one): one object that is each observer the layers
 * accept (requests, SQL, cache reads, purge runs, the token server), plus gauges computed at
 * scrape time from cheap sources (the running totals, cached for a minute;
 * a `version` probe per memcached server).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FinishedRequest, RequestObserver } from '../../server/request-observer.js';
import type { LeaseMode, SqlObserver } from '../../sql/observed-sql-driver.js';
import type { UsageTotals } from '../../storage/storage-directory.js';
import type { PurgeResult } from '../../storage/sync-storage.js';
import type {
  AssignmentKind,
  TokenserverObserver,
  VerificationMethod,
  VerificationOutcome,
} from '../../tokenserver/tokenserver-observer.js';
import type { CacheObserver, CacheOutcome } from './observed-cache-store.js';

export interface PurgeObserver {
  purgeFinished(result: PurgeResult | null, seconds: number): void;
}

export interface ServerMetricsOptions {
  /** Users, items and bytes over the database (the running totals). */
  totals?: () => Promise<UsageTotals>;
  /** memcached servers ("host:port") and how to ask one whether it answers. */
  memcached?: { servers: readonly string[]; probe: (server: string) => Promise<boolean> };
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** Process metrics (CPU, memory, event loop). Default true. */
  processMetrics?: boolean;
}

const TOTALS_TTL_MS = 60_000;

export class ServerMetrics
  implements RequestObserver, SqlObserver, CacheObserver, PurgeObserver, TokenserverObserver
{
  readonly registry = new Registry();
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #latency: Histogram<'method' | 'route'>;
  readonly #statements: Histogram<'operation' | 'outcome'>;
  readonly #connections: Gauge<'mode'>;
  readonly #cacheReads: Counter<'kind' | 'outcome'>;
  readonly #purgeRuns: Counter<'outcome'>;
  readonly #purgeRows: Counter<'table'>;
  readonly #purgeLast: Gauge;
  readonly #purgeDuration: Gauge;
  readonly #tokensIssued: Counter;
  readonly #tokenErrors: Counter<'status' | 'code'>;
  readonly #assignments: Counter<'kind'>;
  readonly #verifications: Counter<'method' | 'outcome'>;
  readonly #clock: () => number;
  /** Running sums for the overview's rates (read by `snapshot`). */
  #requestCount = 0;
  #cacheHits = 0;
  #cacheMisses = 0;
  #totals: { at: number; value: Promise<UsageTotals> } | undefined;

  constructor(private readonly options: ServerMetricsOptions = {}) {
    const registers = [this.registry];
    this.#clock = options.clock ?? Date.now;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.#requests = new Counter({
      name: 'syncstorage_http_requests_total',
      help: 'Requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'syncstorage_http_request_duration_seconds',
      help: 'Time to answer a request, by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#statements = new Histogram({
      name: 'syncstorage_db_statement_duration_seconds',
      help: 'SQL statement latency, by operation and outcome',
      labelNames: ['operation', 'outcome'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.#connections = new Gauge({
      name: 'syncstorage_db_connections_in_use',
      help: 'Database connections checked out, by mode',
      labelNames: ['mode'],
      registers,
    });
    this.#cacheReads = new Counter({
      name: 'syncstorage_cache_reads_total',
      help: 'Cache reads by kind of entry and outcome (hit, miss, error)',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.#purgeRuns = new Counter({
      name: 'syncstorage_purge_runs_total',
      help: 'Purges of expired rows, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.#purgeRows = new Counter({
      name: 'syncstorage_purge_rows_total',
      help: 'Rows deleted by purges, by table',
      labelNames: ['table'],
      registers,
    });
    this.#purgeLast = new Gauge({
      name: 'syncstorage_purge_last_run_timestamp_seconds',
      help: 'When the last purge finished (seconds since the epoch)',
      registers,
    });
    this.#purgeDuration = new Gauge({
      name: 'syncstorage_purge_last_duration_seconds',
      help: 'How long the last purge took',
      registers,
    });
    this.#tokensIssued = new Counter({
      name: 'syncstorage_tokenserver_tokens_issued_total',
      help: 'Tokens the token server handed out',
      registers,
    });
    this.#tokenErrors = new Counter({
      name: 'syncstorage_tokenserver_errors_total',
      help: "Token requests refused, by the error's status (invalid-generation, …) and HTTP code",
      labelNames: ['status', 'code'],
      registers,
    });
    this.#assignments = new Counter({
      name: 'syncstorage_tokenserver_assignments_total',
      help: 'Users given a uid on a node: new_user, reassignment (replaced or node gone), new_client_state',
      labelNames: ['kind'],
      registers,
    });
    this.#verifications = new Counter({
      name: 'syncstorage_tokenserver_fxa_verifications_total',
      help: 'FxA access tokens checked, by method (cache, local_jwk, remote_verify) and outcome (ok, invalid, unavailable)',
      labelNames: ['method', 'outcome'],
      registers,
    });
    if (options.totals) {
      const totals = () => this.totals();
      for (const [name, key, help] of [
        ['syncstorage_users', 'users', 'Users holding data'],
        ['syncstorage_items', 'items', 'Items stored (expired ones until purged)'],
        ['syncstorage_stored_bytes', 'bytes', 'Payload bytes stored'],
      ] as const) {
        new Gauge({
          name,
          help,
          registers,
          async collect() {
            this.set((await totals())[key]);
          },
        });
      }
    }
    const memcached = options.memcached;
    if (memcached && memcached.servers.length > 0) {
      new Gauge({
        name: 'syncstorage_memcached_up',
        help: 'Whether each memcached server answers (1) or not (0)',
        labelNames: ['server'],
        registers,
        async collect() {
          const states = await Promise.all(memcached.servers.map((s) => memcached.probe(s)));
          memcached.servers.forEach((server, i) => this.set({ server }, states[i] ? 1 : 0));
        },
      });
    }
  }

  requestFinished({ method, route, status, seconds }: FinishedRequest): void {
    this.#requests.inc({ method, route, status: String(status) });
    this.#latency.observe({ method, route }, seconds);
    this.#requestCount++;
  }

  statement(operation: string, seconds: number, failed: boolean): void {
    this.#statements.observe({ operation, outcome: failed ? 'error' : 'ok' }, seconds);
  }

  leases(mode: LeaseMode, delta: 1 | -1): void {
    this.#connections.inc({ mode }, delta);
  }

  cacheRead(kind: string, outcome: CacheOutcome): void {
    this.#cacheReads.inc({ kind, outcome });
    if (outcome === 'hit') this.#cacheHits++;
    else this.#cacheMisses++;
  }

  purgeFinished(result: PurgeResult | null, seconds: number): void {
    this.#purgeRuns.inc({ outcome: result ? 'ok' : 'error' });
    this.#purgeLast.set(this.#clock() / 1000);
    this.#purgeDuration.set(seconds);
    if (!result) return;
    this.#purgeRows.inc({ table: 'bso' }, result.bsoRowsPurged);
    this.#purgeRows.inc({ table: 'batch_uploads' }, result.batchesPurged);
    this.#purgeRows.inc({ table: 'batch_upload_items' }, result.batchItemsPurged);
  }

  tokenIssued(): void {
    this.#tokensIssued.inc();
  }

  tokenRefused(status: string, httpStatus: number): void {
    this.#tokenErrors.inc({ status, code: String(httpStatus) });
  }

  userAssigned(kind: AssignmentKind): void {
    this.#assignments.inc({ kind });
  }

  fxaVerified(method: VerificationMethod, outcome: VerificationOutcome): void {
    this.#verifications.inc({ method, outcome });
  }

  /** Users, items and bytes, recomputed at most once a minute. */
  totals(): Promise<UsageTotals> {
    const now = this.#clock();
    const source = this.options.totals;
    if (!source) return Promise.resolve({ users: 0, items: 0, bytes: 0 });
    if (!this.#totals || now - this.#totals.at >= TOTALS_TTL_MS) {
      const value = source();
      // A failed read is not kept: the next scrape asks again.
      value.catch(() => (this.#totals = undefined));
      this.#totals = { at: now, value };
    }
    return this.#totals.value;
  }

  /** Request and cache-read counts since start (the overview's rates come from their differences). */
  counters(): { requests: number; cacheHits: number; cacheMisses: number } {
    return {
      requests: this.#requestCount,
      cacheHits: this.#cacheHits,
      cacheMisses: this.#cacheMisses,
    };
  }

  /** The Prometheus text exposition. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
