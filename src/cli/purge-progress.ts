/**
 * `purge`'s progress lines: the phase, rows purged, the rate, and what is
 * left of the phase — at most one line a second, and one when a phase ends.
 *
 *   purge: expired items: 12000 purged (3100/s), 38000 left
 */
import type { PurgeProgress } from '../storage/sync-storage.js';

const PURGED: Record<PurgeProgress['phase'], (p: PurgeProgress) => number> = {
  items: (p) => p.bsoRowsPurged,
  batches: (p) => p.batchesPurged,
  'batch items': (p) => p.batchItemsPurged,
};

export function purgeProgressPrinter(
  write: (line: string) => void,
  clock: () => number = Date.now,
): (progress: PurgeProgress) => void {
  let phase: PurgeProgress['phase'] | undefined;
  let phaseStart = 0;
  let lastLine = -Infinity;
  return (progress) => {
    const now = clock();
    if (progress.phase !== phase) {
      phase = progress.phase;
      phaseStart = now;
      lastLine = -Infinity;
    }
    const done = progress.remaining === 0;
    if (!done && now - lastLine < 1000) return;
    lastLine = now;
    const purged = PURGED[progress.phase](progress);
    // A rate over less than a second says little: shown from then on.
    const seconds = (now - phaseStart) / 1000;
    const rate = seconds >= 1 ? ` (${Math.round(purged / seconds)}/s)` : '';
    const left = progress.remaining === null ? '' : `, ${progress.remaining} left`;
    write(`purge: expired ${progress.phase}: ${purged} purged${rate}${left}\n`);
  };
}
