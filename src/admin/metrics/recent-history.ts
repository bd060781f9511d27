/**
 * The overview page's last hour: every `intervalMs` a sample of requests/s,
 * the cache hit ratio over the interval, and the users, items and bytes
 * totals, kept in a ring of an hour's worth. In memory, per process: a
 * Prometheus server is where longer or merged history belongs.
 */
import type { ServerMetrics } from './server-metrics.js';

export interface HistoryPoint {
  /** Seconds since the epoch. */
  time: number;
  requestsPerSecond: number;
  /** Hits over hits and misses in the interval; null without cache reads. */
  cacheHitRatio: number | null;
  users: number;
  items: number;
  bytes: number;
}

export class RecentHistory {
  readonly #points: HistoryPoint[] = [];
  readonly #capacity: number;
  #last: { at: number; requests: number; hits: number; misses: number };
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metrics: ServerMetrics,
    private readonly intervalMs = 30_000,
    private readonly clock: () => number = Date.now,
  ) {
    this.#capacity = Math.ceil(3_600_000 / intervalMs);
    const c = metrics.counters();
    this.#last = { at: clock(), requests: c.requests, hits: c.cacheHits, misses: c.cacheMisses };
  }

  start(): void {
    if (!this.#timer) void this.sample().catch(() => undefined);
    this.#timer ??= setInterval(() => void this.sample().catch(() => undefined), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Take a sample now (also what the timer does). */
  async sample(): Promise<HistoryPoint> {
    const now = this.clock();
    const c = this.metrics.counters();
    const last = this.#last;
    const seconds = Math.max((now - last.at) / 1000, 0.001);
    const hits = c.cacheHits - last.hits;
    const misses = c.cacheMisses - last.misses;
    this.#last = { at: now, requests: c.requests, hits: c.cacheHits, misses: c.cacheMisses };
    const totals = await this.metrics.totals();
    const point: HistoryPoint = {
      time: Math.floor(now / 1000),
      requestsPerSecond: (c.requests - last.requests) / seconds,
      cacheHitRatio: hits + misses === 0 ? null : hits / (hits + misses),
      ...totals,
    };
    this.#points.push(point);
    if (this.#points.length > this.#capacity) this.#points.shift();
    return point;
  }

  points(): HistoryPoint[] {
    return [...this.#points];
  }
}
