#!/usr/bin/env node
// `npm start` builds only when a source changed since the last build.
// `tsc -b` is incremental already, but even a build with nothing to do
// starts the compiler and reads every output (about half a second of CPU,
// more on a loaded machine); comparing modification times is a few
// milliseconds. After a build it leaves a stamp (dist/.build-stamp).
//
//   node scripts/build-if-stale.mjs           # build if stale, else say so
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(root, 'dist', '.build-stamp');
/** What the build reads: sources and the files that configure it. */
const INPUTS = [
  'src',
  'packages/memcache/src',
  'packages/cache/src',
  'tsconfig.json',
  'tsconfig.base.json',
  'packages/memcache/tsconfig.json',
  'packages/cache/tsconfig.json',
  'package.json',
  'packages/memcache/package.json',
  'packages/cache/package.json',
];

/** The newest modification time under `path` (a file or folder), 0 if absent. */
export function newestInput(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file changes its folder's time
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestInput(join(path, entry)));
  return newest;
}

/** True when the stamp is missing or older than some input. */
export function isStale(base = root, stamp = STAMP) {
  let built;
  try {
    built = statSync(stamp).mtimeMs;
  } catch {
    return true;
  }
  return INPUTS.some((input) => newestInput(join(base, input)) > built);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!isStale()) {
    process.stderr.write('build is current (dist/); not rebuilding\n');
  } else {
    const started = Date.now();
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) process.exit(result.status ?? 1);
    mkdirSync(dirname(STAMP), { recursive: true });
    writeFileSync(STAMP, `${new Date(started).toISOString()}\n`);
    // Dated when the build started: a source saved during it is newer.
    utimesSync(STAMP, started / 1000, started / 1000);
    process.stderr.write(`built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
}
