// The load generator in token-server mode against a real `syncstorage serve`
// process: each simulated client gets its Hawk credentials and storage node
// from GET /1.0/sync/1.5 with an FxA OAuth token — signed by a local RS256
// key whose public JWK the server is configured with, or issued by a (fake)
// FxA the server asks — then syncs on the node the answer names.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { freePort, killWithTestProcess, waitForPort } from '@syncstorage-ts/test-support';
import { loadListedAccounts } from '../../src/loadtest/fxa-accounts.js';
import { runLoad } from '../../src/loadtest/load-runner.js';
import { summarize, type LoadSummary } from '../../src/loadtest/load-summary.js';
import { FakeFxa } from '../tokenserver/support/fake-fxa.js';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

describe('loadtest through the token server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loadtest-tokenserver-'));
  const keyFile = join(dir, 'fxa-key.pem');
  let fxa: FakeFxa;
  let url: string;
  let server: ChildProcess | undefined;

  before(async () => {
    fxa = await FakeFxa.start();
    // The key is made by the CLI, which prints the JWK to configure the server with.
    const printed = await run(process.execPath, [
      ...CLI,
      'loadtest',
      '--fxa-key',
      keyFile,
      '--print-fxa-jwk',
    ]);
    const jwk = JSON.parse(printed.stdout) as { kty: string };
    assert.equal(jwk.kty, 'RSA');
    const port = await freePort();
    server = spawn(
      process.execPath,
      [...CLI, 'serve', '--port', String(port), '--data-dir', dir, '--admin-listen', 'off'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          SYNC_LOG_LEVEL: 'warn',
          SYNC_TOKENSERVER__FXA_OAUTH_PRIMARY_JWK: printed.stdout.trim(),
          SYNC_TOKENSERVER__FXA_OAUTH_SERVER_URL: fxa.url,
        },
      },
    );
    killWithTestProcess(server);
    await waitForPort(port, '127.0.0.1', 20_000);
    url = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    server?.kill('SIGKILL');
    await fxa.stop();
  });

  test('syncstorage loadtest --fxa-key: every client starts at the token server, then syncs', async () => {
    const { SYNC_MASTER_SECRET: _none, ...env } = process.env;
    const args = ['loadtest', '--url', url, '--fxa-key', keyFile, '--json'];
    const out = await run(
      process.execPath,
      [...CLI, ...args, '--users', '3', '--concurrency', '3', '--duration', '1'],
      { env },
    );
    const summary = JSON.parse(out.stdout) as LoadSummary;
    assert.equal(summary.failures, 0, JSON.stringify(summary.failuresByStatus));
    assert.ok(summary.scenarios >= 3);
    // One token per simulated user (an hour long), then storage requests on its node.
    assert.equal(summary.latency['GET token']?.count, 3);
    assert.ok(summary.latency['info/collections']?.count);
    // Verified with the configured JWK: FxA never asked.
    assert.deepEqual(fxa.calls, { jwks: 0, verify: 0 });
  });

  test('--fxa-tokens: tokens an FxA issued, verified by the server against that FxA', async () => {
    const lines = [0, 1].map((i) =>
      fxa.opaqueToken(`listed${i}`.padEnd(32, '0'), 1_800_000_000_000),
    );
    const file = join(dir, 'tokens.txt');
    writeFileSync(file, `# one account a line\n${lines.join('\n')}\n`);
    const summary = summarize(
      await runLoad({
        url,
        tokenserver: { accounts: loadListedAccounts(file) },
        concurrency: 2,
        durationSeconds: 0.5,
      }),
    );
    assert.equal(summary.failures, 0, JSON.stringify(summary.failuresByStatus));
    assert.equal(summary.latency['GET token']?.count, 2);
    assert.equal(fxa.calls.verify, 2);
  });

  test('a key the server does not know: 401s on GET token, no storage request', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const summary = summarize(
      await runLoad({
        url,
        tokenserver: { signingKey: privateKey },
        users: 2,
        concurrency: 2,
        durationSeconds: 0.3,
        errorPauseMs: 0,
      }),
    );
    assert.equal(summary.failedScenarios, summary.scenarios);
    assert.ok(summary.failuresByStatus['401']?.['GET token']);
    assert.equal(summary.latency['info/configuration'], undefined);
  });
});
