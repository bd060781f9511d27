/**
 * The load generator end to end against a real socket: an in-process server
 * on `sqlite::memory:`, a short run, the figures, and the ledger read back.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { HttpTransport } from '../../src/loadtest/http-transport.js';
import { verifyLedger } from '../../src/loadtest/ledger-verifier.js';
import { runLoad } from '../../src/loadtest/load-runner.js';
import { formatSummary, summarize, type LoadSummary } from '../../src/loadtest/load-summary.js';
import { WriteLedger } from '../../src/loadtest/write-ledger.js';
import { buildApp } from '../../src/server/app.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import type { SyncStorage } from '../../src/storage/sync-storage.js';

const SECRET = 'loadtest secret';
let storage: SyncStorage;
let app: FastifyInstance;
let url: string;

describe('load run', () => {
  before(async () => {
    storage = await openSqlStorage({ url: 'sqlite::memory:' });
    app = buildApp({ storage, config: { masterSecret: SECRET } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    url = `http://127.0.0.1:${address.port}`;
  });

  after(async () => {
    await app.close();
    await storage.close();
  });

  test('simulated clients run without unexpected answers, and every acknowledged write reads back', async () => {
    const ledger = new WriteLedger();
    const run = await runLoad(
      { url, secret: SECRET, users: 6, concurrency: 3, durationSeconds: 1.5, seed: 5, tabs: true },
      { ledger },
    );
    const summary = summarize(run);
    assert.equal(summary.failures, 0, JSON.stringify(summary.failuresByStatus));
    assert.ok(summary.scenarios > 5, `scenarios ${summary.scenarios}`);
    assert.equal(summary.failedScenarios, 0);
    for (const kind of ['info/configuration', 'info/collections', 'GET tabs', 'POST tabs', 'all']) {
      assert.ok(summary.latency[kind]?.count, `no ${kind} requests`);
    }
    assert.ok(summary.latency.all!.p50 <= summary.latency.all!.p99);
    assert.ok(ledger.writesAcknowledged > 0);

    const transport = new HttpTransport({ baseUrl: url });
    const verdict = await verifyLedger({ transport, masterSecret: SECRET, ledger, pageSize: 50 });
    transport.close();
    assert.ok(verdict.checked > 0);
    assert.equal(verdict.intact, verdict.checked);
    assert.equal(
      verdict.lost + verdict.corrupt + verdict.halfApplied + verdict.uncommittedVisible,
      0,
    );
  });

  test('a wrong secret is reported as 401s by request kind', async () => {
    const run = await runLoad({
      url,
      secret: 'wrong',
      users: 2,
      concurrency: 2,
      durationSeconds: 0.3,
      errorPauseMs: 0,
    });
    const summary = summarize(run);
    assert.equal(summary.failedScenarios, summary.scenarios);
    assert.ok(summary.failuresByStatus['401']?.['info/configuration']);
    assert.match(formatSummary(summary), /401: \d+ \(info\/configuration \d+\)/);
  });

  test('a server that is not there is reported as connection errors, not a crash', async () => {
    const run = await runLoad({
      url: 'http://127.0.0.1:1',
      secret: SECRET,
      users: 1,
      concurrency: 1,
      durationSeconds: 0.3,
      errorPauseMs: 50,
    });
    assert.ok(run.stats.failuresByKey.has('error:ECONNREFUSED'));
  });

  test('syncstorage loadtest --secret-file … --json prints the figures', async () => {
    // The secret from a file, never on the command line (argv shows in ps).
    const secretFile = join(mkdtempSync(join(tmpdir(), 'loadtest-')), 'master-secret');
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const { SYNC_MASTER_SECRET: _unset, ...env } = process.env;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'loadtest',
        '--url',
        url,
        '--duration',
        '1',
        '--concurrency',
        '2',
        '--users',
        '2',
        '--secret-file',
        secretFile,
        '--json',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const summary = JSON.parse(out) as LoadSummary;
    assert.equal(code, 0);
    assert.equal(summary.failures, 0);
    assert.ok(summary.scenarios > 0);
    assert.equal(typeof summary.latency.all?.p99, 'number');
  });
});
