#!/usr/bin/env node
// Runs every test file under test/ (or the files/folders given) with Node's
// own test runner, TypeScript through tsx. Node 20's runner does not glob
// .ts files itself, hence this script.
//
//   node scripts/run-tests.mjs                          # everything
//   node scripts/run-tests.mjs packages/memcache/test   # one folder
//   STORAGE_BACKENDS=sqlite node scripts/run-tests.mjs test/storage
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) collect(join(path, entry), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

// The workspace packages resolve to their TypeScript sources through this
// export condition (their package.json), so tests need no build; child
// processes the tests start inherit it through NODE_OPTIONS.
const SOURCE_CONDITION = '--conditions=syncstorage-ts:source';
const DEFAULT_ROOTS = [
  'test',
  'packages/memcache/test',
  'packages/cache/test',
  'packages/test-support/test',
];

const roots = process.argv.slice(2);
const files = (roots.length ? roots : DEFAULT_ROOTS).flatMap((root) => collect(root, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    `--test-timeout=${process.env.TEST_TIMEOUT_MS ?? 300000}`,
    ...files,
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_OPTIONS: [process.env.NODE_OPTIONS, SOURCE_CONDITION].filter(Boolean).join(' '),
    },
  },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
