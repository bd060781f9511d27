import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { purgeProgressPrinter } from '../../src/cli/purge-progress.js';
import type { PurgeProgress } from '../../src/storage/sync-storage.js';

const step = (phase: PurgeProgress['phase'], purged: number, remaining: number): PurgeProgress => ({
  bsoRowsPurged: phase === 'items' ? purged : 0,
  batchesPurged: phase === 'batches' ? purged : 0,
  batchItemsPurged: phase === 'batch items' ? purged : 0,
  isComplete: true,
  phase,
  remaining,
});

describe('purge progress lines', () => {
  test('name the phase, the rate and what is left; at most one a second, and the end', () => {
    let now = 0;
    const lines: string[] = [];
    const print = purgeProgressPrinter(
      (line) => lines.push(line),
      () => now,
    );
    print(step('items', 100, 900));
    now = 500;
    print(step('items', 200, 800)); // within the second: no line
    now = 2000;
    print(step('items', 800, 200));
    now = 2500;
    print(step('items', 1000, 0)); // the phase's end: always a line
    print(step('batches', 3, 0));
    assert.deepEqual(lines, [
      'purge: expired items: 100 purged, 900 left\n',
      'purge: expired items: 800 purged (400/s), 200 left\n',
      'purge: expired items: 1000 purged (400/s), 0 left\n',
      'purge: expired batches: 3 purged, 0 left\n',
    ]);
  });
});
