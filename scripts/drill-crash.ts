/**
 * Crash drill (`npm run drill:crash`): simulated Firefox clients write to a
 * server that is killed with SIGKILL mid-run (twice) and restarted, on
 * SQLite (the embedded default: file database, in-process cache), on
 * PostgreSQL and on MariaDB. Afterwards every write the clients saw acknowledged must be
 * present with its payload, no unanswered batch or POST may be half
 * applied, and nothing of an uncommitted batch may be visible.
 *
 *   npm run drill:crash                       # all three backends
 *   npm run drill:crash -- --backend sqlite   # one
 *   npm run drill:crash -- --backend sqlite --sqlite-synchronous NORMAL
 *
 * Exits 1 when a verdict fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  HttpTransport,
  runLoad,
  summarize,
  verifyLedger,
  WriteLedger,
  type LedgerVerdict,
  type LoadSummary,
} from '../src/loadtest/index.js';
import {
  startMariadb,
  startPostgres,
  type MariadbServer,
  type PostgresServer,
} from '@syncstorage-ts/test-support';
import {
  seconds,
  sleep,
  startDrillServer,
  type DrillServer,
  type ServerKind,
} from './drill-process.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'sqlite,postgres,mariadb' },
    duration: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '10' },
    users: { type: 'string', default: '40' },
    // NORMAL (WAL) skips the fsync per commit: it must still survive a process crash.
    'sqlite-synchronous': { type: 'string' },
    // `serve` (the CLI) or `script` (scripts/drill-server.ts, needed for --sqlite-synchronous).
    server: { type: 'string' },
  },
});
const SECRET = 'crash drill secret';
const SERVER_KIND: ServerKind =
  values.server === 'script' || (values.server === undefined && values['sqlite-synchronous'])
    ? 'script'
    : 'serve';
const DURATION = Number(values.duration);
/** Seconds into the run at which the server is killed. */
const KILLS = [DURATION * 0.3, DURATION * 0.65];

interface CrashResult {
  backend: string;
  summary: LoadSummary;
  verdict: LedgerVerdict;
  writesAcknowledged: number;
  batchesCommitted: number;
  unknownOutcomes: number;
  recoverySeconds: number[];
  serverErrors: number;
  successesAfterLastRestart: number;
  pass: boolean;
}

async function drill(backend: string, database: string): Promise<CrashResult> {
  const synchronous = values['sqlite-synchronous'];
  const server: DrillServer = await startDrillServer(
    ['--database', database, '--cache', 'memory'].concat(
      synchronous ? ['--sqlite-synchronous', synchronous] : [],
    ),
    SECRET,
    SERVER_KIND,
  );
  const ledger = new WriteLedger();
  const kills: number[] = [];
  const restarts: number[] = [];
  let lastRestart = 0;
  const load = runLoad(
    {
      url: server.url,
      secret: SECRET,
      users: Number(values.users),
      concurrency: Number(values.concurrency),
      durationSeconds: DURATION,
      timeoutMs: 10_000,
      errorPauseMs: 100,
    },
    { ledger },
  );
  const started = Date.now();
  for (const at of KILLS) {
    await sleep(Math.max(0, started + at * 1000 - Date.now()));
    kills.push(Date.now());
    await server.kill9();
    process.stderr.write(`${backend}: killed the server at ${seconds(Date.now() - started)} s\n`);
    await server.start();
    restarts.push(Date.now());
    process.stderr.write(`${backend}: restarted at ${seconds(Date.now() - started)} s\n`);
  }
  lastRestart = restarts[restarts.length - 1] ?? 0;
  const run = await load;
  const summary = summarize(run);

  const transport = new HttpTransport({ baseUrl: server.url });
  let verdict: LedgerVerdict;
  try {
    verdict = await verifyLedger({ transport, masterSecret: SECRET, ledger });
  } finally {
    transport.close();
    await server.stop();
  }

  // Seconds from each kill until requests stopped failing.
  const log = run.stats.failureLog;
  const recoverySeconds = kills.map((kill, i) => {
    const until = kills[i + 1] ?? Infinity;
    const last = log.filter((f) => f.at >= kill && f.at < until).map((f) => f.at);
    return last.length === 0 ? 0 : seconds(Math.max(...last) - kill);
  });
  const serverErrors = log.filter((f) => /^5\d\d/.test(f.key)).length;
  const after = run.stats.timeline
    .filter((b) => b.second * 1000 + run.stats.startedAt > lastRestart + 1000)
    .reduce((n, b) => n + b.requests - b.failures, 0);
  const pass =
    verdict.lost === 0 &&
    verdict.corrupt === 0 &&
    verdict.halfApplied === 0 &&
    verdict.uncommittedVisible === 0 &&
    serverErrors === 0 &&
    after > 0 &&
    ledger.writesAcknowledged > 0;
  return {
    backend,
    summary,
    verdict,
    writesAcknowledged: ledger.writesAcknowledged,
    batchesCommitted: ledger.batchesCommitted,
    unknownOutcomes: ledger.unknownOutcomes,
    recoverySeconds,
    serverErrors,
    successesAfterLastRestart: after,
    pass,
  };
}

function report(r: CrashResult): string {
  const errors = Object.entries(r.summary.failuresByStatus)
    .map(([status, kinds]) => `${status} ${Object.values(kinds).reduce((a, b) => a + b, 0)}`)
    .join(', ');
  return [
    `== crash drill, ${r.backend} (server: ${SERVER_KIND === 'serve' ? 'syncstorage serve' : 'scripts/drill-server.ts'}): ${r.pass ? 'PASS' : 'FAIL'}`,
    `requests:                  ${r.summary.requests} (${r.summary.scenarios} scenarios, ${r.summary.scenariosPerSecond}/s)`,
    `errors by status:          ${errors || 'none'}`,
    `HTTP 5xx:                  ${r.serverErrors}`,
    `writes acknowledged:       ${r.writesAcknowledged} items (${r.batchesCommitted} batch commits)`,
    `unanswered writes/deletes: ${r.unknownOutcomes}`,
    `checked after restart:     ${r.verdict.checked} items: ${r.verdict.intact} intact, ${r.verdict.explained} changed by an unanswered request`,
    `writes lost:               ${r.verdict.lost + r.verdict.corrupt} (${r.verdict.lost} missing, ${r.verdict.corrupt} wrong payload)`,
    `half-applied writes:       ${r.verdict.halfApplied}`,
    `uncommitted batch visible: ${r.verdict.uncommittedVisible} items`,
    `seconds to recover:        ${r.recoverySeconds.join(', ')} (kill → last failed request)`,
    `successes after restart:   ${r.successesAfterLastRestart} requests`,
    ...r.verdict.samples.map((s) => `  ${s}`),
  ].join('\n');
}

const results: CrashResult[] = [];
let postgres: PostgresServer | undefined;
let mariadb: MariadbServer | undefined;
const dir = mkdtempSync(join(tmpdir(), 'drill-crash-'));
try {
  for (const backend of values.backend.split(',')) {
    let database: string;
    if (backend === 'sqlite') {
      database = `sqlite:${join(dir, 'sync.db')}`;
    } else if (backend === 'postgres') {
      postgres ??= await startPostgres();
      database = await postgres.createDatabase('drill_crash');
    } else if (backend === 'mariadb') {
      mariadb ??= await startMariadb();
      database = await mariadb.createDatabase('drill_crash');
    } else {
      throw new Error(`unknown backend ${backend}: sqlite, postgres or mariadb`);
    }
    const result = await drill(backend, database);
    results.push(result);
    process.stdout.write(`${report(result)}\n\n`);
  }
} finally {
  await postgres?.stop();
  await mariadb?.stop();
  rmSync(dir, { recursive: true, force: true });
}
const failed = results.filter((r) => !r.pass).map((r) => r.backend);
process.stdout.write(
  failed.length === 0 ? 'crash drill: PASS\n' : `crash drill: FAIL (${failed.join(', ')})\n`,
);
process.exitCode = failed.length === 0 ? 0 : 1;
