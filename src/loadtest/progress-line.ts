/**
 * The live progress line of a load run: rewritten in place on a terminal,
 * else one line every few seconds (so logs of a CI run stay short).
 */
import type { RequestStats } from './request-stats.js';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export function progressReporter(
  out: ProgressOutput,
  everySeconds = 5,
): (stats: RequestStats, elapsedSeconds: number) => void {
  let lastScenarios = 0;
  let lastRequests = 0;
  let lastAt = 0;
  return (stats, elapsed) => {
    if (!out.isTTY && elapsed - lastAt < everySeconds) return;
    const span = Math.max(elapsed - lastAt, 1e-9);
    const line =
      `${elapsed.toFixed(0).padStart(4)} s  scenarios ${stats.scenarios} ` +
      `(${((stats.scenarios - lastScenarios) / span).toFixed(0)}/s)  requests ${stats.requests} ` +
      `(${((stats.requests - lastRequests) / span).toFixed(0)}/s)  unexpected ${stats.failures}`;
    lastScenarios = stats.scenarios;
    lastRequests = stats.requests;
    lastAt = elapsed;
    out.write(out.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
  };
}

/** Ends an in-place line before the report is printed. */
export function endProgress(out: ProgressOutput): void {
  if (out.isTTY) out.write('\n');
}
