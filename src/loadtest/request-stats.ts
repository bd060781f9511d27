/**
 * Counters of a load run: scenarios, requests, latencies per request kind,
 * and every unexpected status (anything but the 2xx/304 a kind expects) by
 * status and kind. Also a time line of 1-second buckets, for the drills to
 * find when errors started and stopped.
 */
import { LatencySamples } from './latency-samples.js';
import type { RequestKind } from './request-kinds.js';

/** An unexpected outcome: an HTTP status, or "error:<code>" when no response came. */
export type FailureKey = string;

export interface SecondBucket {
  /** Seconds since the run started. */
  second: number;
  requests: number;
  failures: number;
  /** Failures by key within this second. */
  byKey: Record<FailureKey, number>;
}

export interface FailureEvent {
  /** Clock time, ms. */
  at: number;
  kind: RequestKind;
  key: FailureKey;
  /** The simulated user, when known. */
  uid?: number;
  /** Latency of the failed request, ms. */
  ms: number;
}

const MAX_FAILURE_LOG = 200_000;

export class RequestStats {
  readonly startedAt: number;
  scenarios = 0;
  failedScenarios = 0;
  requests = 0;
  failures = 0;
  readonly latency = new Map<RequestKind, LatencySamples>();
  /** failure key → kind → count */
  readonly failuresByKey = new Map<FailureKey, Map<RequestKind, number>>();
  /** Answers that were expected but are not 2xx (meta/global 404 before it is PUT). */
  expectedMisses = 0;
  readonly timeline: SecondBucket[] = [];
  /** Clock time of the latest unexpected answer; 0 when none. */
  lastFailureAt = 0;
  /** Every unexpected answer with its time (the first `MAX_FAILURE_LOG`). */
  readonly failureLog: FailureEvent[] = [];

  constructor(private readonly clock: () => number = Date.now) {
    this.startedAt = clock();
  }

  private bucket(now: number): SecondBucket {
    const second = Math.floor((now - this.startedAt) / 1000);
    let last = this.timeline[this.timeline.length - 1];
    while (!last || last.second < second) {
      last = { second: last ? last.second + 1 : 0, requests: 0, failures: 0, byKey: {} };
      this.timeline.push(last);
    }
    return last;
  }

  /** One finished request. `failure` is set when the outcome was unexpected. */
  record(kind: RequestKind, ms: number, failure?: FailureKey, uid?: number): void {
    this.requests++;
    let samples = this.latency.get(kind);
    if (!samples) {
      samples = new LatencySamples();
      this.latency.set(kind, samples);
    }
    samples.add(ms);
    const now = this.clock();
    const bucket = this.bucket(now);
    bucket.requests++;
    if (failure === undefined) return;
    this.failures++;
    this.lastFailureAt = now;
    if (this.failureLog.length < MAX_FAILURE_LOG)
      this.failureLog.push({ at: now, kind, key: failure, uid, ms });
    bucket.failures++;
    bucket.byKey[failure] = (bucket.byKey[failure] ?? 0) + 1;
    let kinds = this.failuresByKey.get(failure);
    if (!kinds) {
      kinds = new Map();
      this.failuresByKey.set(failure, kinds);
    }
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }

  scenarioDone(ok: boolean): void {
    this.scenarios++;
    if (!ok) this.failedScenarios++;
  }
}
