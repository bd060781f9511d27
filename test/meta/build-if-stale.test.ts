// `npm start` rebuilds only when a source is newer than the last build.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without types
import { isStale } from '../../scripts/build-if-stale.mjs';

const check = isStale as (base: string, stamp: string) => boolean;

describe('build-if-stale', () => {
  test('stale without a stamp, current after it, stale again when a source changes or goes', () => {
    const base = mkdtempSync(join(tmpdir(), 'sync-build-'));
    mkdirSync(join(base, 'src', 'cli'), { recursive: true });
    const source = join(base, 'src', 'cli', 'main.ts');
    writeFileSync(source, 'export {};\n');
    const stamp = join(base, 'stamp');
    assert.equal(check(base, stamp), true, 'never built');
    const past = Date.now() / 1000 - 60;
    for (const path of [source, join(base, 'src', 'cli'), join(base, 'src')]) {
      utimesSync(path, past, past);
    }
    writeFileSync(stamp, 'built\n');
    utimesSync(stamp, past + 10, past + 10);
    assert.equal(check(base, stamp), false, 'nothing changed since');
    writeFileSync(source, 'export const changed = 1;\n');
    assert.equal(check(base, stamp), true, 'a source edited after the build');
    writeFileSync(stamp, 'built again\n');
    utimesSync(stamp, Date.now() / 1000 + 5, Date.now() / 1000 + 5);
    assert.equal(check(base, stamp), false);
    rmSync(source);
    utimesSync(stamp, Date.now() / 1000 - 1, Date.now() / 1000 - 1);
    assert.equal(check(base, stamp), true, 'a source deleted (its folder changed)');
  });
});
