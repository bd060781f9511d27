import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { endProgress, progressReporter } from '../../src/loadtest/progress-line.js';
import { RequestStats } from '../../src/loadtest/request-stats.js';

function sink(isTTY: boolean): {
  out: { write(t: string): void; isTTY: boolean };
  lines: string[];
} {
  const lines: string[] = [];
  return { out: { write: (t: string) => void lines.push(t), isTTY }, lines };
}

describe('progress line', () => {
  test('on a terminal it is rewritten in place every tick', () => {
    const { out, lines } = sink(true);
    const stats = new RequestStats();
    const tick = progressReporter(out);
    stats.record('info/collections', 1);
    stats.scenarioDone(true);
    tick(stats, 1);
    tick(stats, 2);
    endProgress(out);
    assert.equal(lines.length, 3);
    assert.ok(lines[0]!.startsWith('\r\x1b[K'));
    assert.match(lines[0]!, /scenarios 1 \(1\/s\)\s+requests 1 \(1\/s\)\s+unexpected 0/);
    assert.equal(lines[2], '\n');
  });

  test('elsewhere it prints a line every few seconds only', () => {
    const { out, lines } = sink(false);
    const stats = new RequestStats();
    const tick = progressReporter(out, 5);
    for (let second = 1; second <= 11; second++) {
      stats.record('GET collection', 1, second === 3 ? '503' : undefined);
      tick(stats, second);
    }
    endProgress(out);
    assert.equal(lines.length, 2);
    assert.ok(lines.every((line) => line.endsWith('\n') && !line.includes('\r')));
    assert.match(lines[0]!, /^\s+5 s .*requests 5 \(1\/s\).*unexpected 1/);
  });

  test('the stats keep a time line and a log of failures', () => {
    let now = 1_000_000;
    const stats = new RequestStats(() => now);
    stats.record('POST tabs', 3, '503', 42);
    now += 2500;
    stats.record('GET tabs', 4);
    assert.deepEqual(
      stats.timeline.map((b) => [b.second, b.requests, b.failures]),
      [
        [0, 1, 1],
        [1, 0, 0],
        [2, 1, 0],
      ],
    );
    assert.deepEqual(stats.failureLog, [
      { at: 1_000_000, kind: 'POST tabs', key: '503', uid: 42, ms: 3 },
    ]);
    assert.equal(stats.lastFailureAt, 1_000_000);
    assert.equal(stats.failuresByKey.get('503')?.get('POST tabs'), 1);
  });
});
