/**
 * The figures of a load run, as a plain object (printed as JSON with
 * `--json`, and as text by `formatSummary`).
 */
import type { LoadRun } from './load-runner.js';
import { REQUEST_KINDS } from './request-kinds.js';

export interface KindLatency {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoadSummary {
  url: string;
  users: number;
  concurrency: number;
  elapsedSeconds: number;
  scenarios: number;
  failedScenarios: number;
  scenariosPerSecond: number;
  requests: number;
  requestsPerSecond: number;
  /** Requests whose answer was not the 2xx/304 expected (meta/global 404 is expected). */
  failures: number;
  /** status (or "error:<code>") → request kind → count */
  failuresByStatus: Record<string, Record<string, number>>;
  /** meta/global 404s answered by a PUT, as a client does. */
  expectedMisses: number;
  /** ms, per request kind, and over all requests as "all". */
  latency: Record<string, KindLatency>;
}

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

export function summarize(run: LoadRun): LoadSummary {
  const { stats, options, elapsedSeconds } = run;
  const latency: Record<string, KindLatency> = {};
  const all: number[] = [];
  for (const kind of REQUEST_KINDS) {
    const samples = stats.latency.get(kind);
    if (!samples || samples.count === 0) continue;
    latency[kind] = {
      count: samples.count,
      p50: round(samples.percentile(50)),
      p95: round(samples.percentile(95)),
      p99: round(samples.percentile(99)),
      max: round(samples.max()),
    };
  }
  // Overall percentiles: merge the per-kind samples.
  for (const samples of stats.latency.values()) for (const ms of samples.all()) all.push(ms);
  all.sort((a, b) => a - b);
  const at = (p: number): number =>
    all.length === 0 ? 0 : round(all[Math.max(0, Math.ceil((p / 100) * all.length) - 1)] as number);
  latency.all = { count: all.length, p50: at(50), p95: at(95), p99: at(99), max: at(100) };

  const failuresByStatus: Record<string, Record<string, number>> = {};
  for (const [key, kinds] of stats.failuresByKey) failuresByStatus[key] = Object.fromEntries(kinds);
  const seconds = Math.max(elapsedSeconds, 1e-9);
  return {
    url: options.url,
    users: options.users,
    concurrency: options.concurrency,
    elapsedSeconds: round(elapsedSeconds, 2),
    scenarios: stats.scenarios,
    failedScenarios: stats.failedScenarios,
    scenariosPerSecond: round(stats.scenarios / seconds),
    requests: stats.requests,
    requestsPerSecond: round(stats.requests / seconds),
    failures: stats.failures,
    failuresByStatus,
    expectedMisses: stats.expectedMisses,
    latency,
  };
}

/** A human-readable report. */
export function formatSummary(summary: LoadSummary): string {
  const lines = [
    `${summary.url}: ${summary.users} users, concurrency ${summary.concurrency}, ${summary.elapsedSeconds} s`,
    `scenarios: ${summary.scenarios} (${summary.failedScenarios} failed), ${summary.scenariosPerSecond}/s`,
    `requests:  ${summary.requests} (${summary.failures} unexpected answers), ${summary.requestsPerSecond}/s`,
    '',
    `${'request'.padEnd(20)}${'count'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`,
  ];
  for (const [kind, l] of Object.entries(summary.latency)) {
    lines.push(
      `${kind.padEnd(20)}${String(l.count).padStart(9)}${l.p50.toFixed(1).padStart(9)}${l.p95.toFixed(1).padStart(9)}${l.p99.toFixed(1).padStart(9)}${l.max.toFixed(1).padStart(9)}`,
    );
  }
  lines.push('');
  const statuses = Object.entries(summary.failuresByStatus);
  if (statuses.length === 0) {
    lines.push('no unexpected answers (every request got its 2xx/304)');
  } else {
    lines.push('unexpected answers by status:');
    for (const [status, kinds] of statuses) {
      const total = Object.values(kinds).reduce((a, b) => a + b, 0);
      const detail = Object.entries(kinds)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', ');
      lines.push(`  ${status}: ${total} (${detail})`);
    }
  }
  if (summary.expectedMisses > 0) {
    lines.push(`meta/global missing (404, then PUT): ${summary.expectedMisses}`);
  }
  return lines.join('\n');
}
