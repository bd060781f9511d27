/**
 * memcached drill (`npm run drill:memcached`): simulated Firefox clients
 * (tabs included) against a server with the memcached layer — PostgreSQL
 * underneath, `meta`/`clients` cached, `tabs` cache-only — while memcached
 * is killed (SIGKILL) mid-run and restarted 10 s later.
 *
 * Verdict: no answer but 2xx/304 anywhere, except 503 with Retry-After
 * during the outage (the cache-only `tabs`, and every write: its dirty mark
 * cannot be made, issue 13); and the 503s stop within the memcached
 * client's dead-server retry interval after memcached returns.
 *
 *   npm run drill:memcached
 *   npm run drill:memcached -- --database sqlite
 *   npm run drill:memcached -- --retry-interval 30000   # the library default (serve: 2 s)
 *
 * Exits 1 when the verdict fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad, summarize } from '../src/loadtest/index.js';
import { startMemcached } from '@syncstorage-ts/test-support';
import { startPostgres, type PostgresServer } from '@syncstorage-ts/test-support';
import { seconds, sleep, startDrillServer, type ServerKind } from './drill-process.js';

const { values } = parseArgs({
  options: {
    database: { type: 'string', default: 'postgres' },
    duration: { type: 'string' },
    concurrency: { type: 'string', default: '10' },
    users: { type: 'string', default: '40' },
    'kill-at': { type: 'string', default: '8' },
    'outage-seconds': { type: 'string', default: '10' },
    // ms; `serve` takes it as --memcached-retry-seconds (default here 5 s,
    // serve's default being 2 s, the library's 30 s).
    'retry-interval': { type: 'string' },
    // `serve` (the CLI) or `script` (scripts/drill-server.ts).
    server: { type: 'string', default: 'serve' },
  },
});
const SECRET = 'memcached drill secret';
const SERVER_KIND: ServerKind = values.server === 'script' ? 'script' : 'serve';
const RETRY_INTERVAL_MS = Number(values['retry-interval'] ?? 5000);
if (SERVER_KIND === 'serve' && RETRY_INTERVAL_MS % 1000 !== 0) {
  throw new Error('--retry-interval must be whole seconds with --server serve');
}
const KILL_AT = Number(values['kill-at']);
const OUTAGE_SECONDS = Number(values['outage-seconds']);
// Long enough to see the recovery and some load after it.
const DURATION =
  values.duration !== undefined
    ? Number(values.duration)
    : KILL_AT + OUTAGE_SECONDS + RETRY_INTERVAL_MS / 1000 + 6;
/** A request that was already waiting on the dead server when the interval ended. */
const SLACK_MS = 1000;

const dir = mkdtempSync(join(tmpdir(), 'drill-memcached-'));
let postgres: PostgresServer | undefined;
const memcached = await startMemcached();
const outcome = { pass: false };
try {
  let database: string;
  if (values.database === 'postgres') {
    postgres = await startPostgres();
    database = postgres.url;
  } else {
    database = `sqlite:${join(dir, 'sync.db')}`;
  }
  const server = await startDrillServer(
    ['--database', database, '--memcached', memcached.address].concat(
      SERVER_KIND === 'script'
        ? ['--retry-interval', String(RETRY_INTERVAL_MS)]
        : ['--memcached-retry-seconds', String(RETRY_INTERVAL_MS / 1000)],
    ),
    SECRET,
    SERVER_KIND,
  );
  try {
    const load = runLoad({
      url: server.url,
      secret: SECRET,
      users: Number(values.users),
      concurrency: Number(values.concurrency),
      durationSeconds: DURATION,
      tabs: true,
      timeoutMs: 10_000,
    });
    const started = Date.now();
    await sleep(KILL_AT * 1000);
    const killedAt = Date.now();
    await memcached.kill();
    process.stderr.write(`memcached killed at ${seconds(killedAt - started)} s\n`);
    await sleep(OUTAGE_SECONDS * 1000);
    await memcached.start();
    const restartedAt = Date.now();
    process.stderr.write(`memcached restarted at ${seconds(restartedAt - started)} s\n`);
    const run = await load;
    const summary = summarize(run);

    const log = run.stats.failureLog;
    const allowed = (f: (typeof log)[number]): boolean =>
      f.key === '503' && f.at >= killedAt && f.at <= restartedAt + RETRY_INTERVAL_MS + SLACK_MS;
    const outageAnswers = log.filter(allowed);
    const forbidden = log.filter((f) => !allowed(f));
    const serverErrors = log.filter((f) => /^5/.test(f.key) && !allowed(f)).length;
    const lastOutageAnswer = Math.max(0, ...outageAnswers.map((f) => f.at));
    const recoverMs = outageAnswers.length === 0 ? 0 : Math.max(0, lastOutageAnswer - restartedAt);
    const after = run.stats.timeline
      .filter((b) => run.stats.startedAt + b.second * 1000 > lastOutageAnswer + 1000)
      .reduce((n, b) => n + b.requests - b.failures, 0);
    const errors = Object.entries(summary.failuresByStatus)
      .map(([status, kinds]) => `${status} ${JSON.stringify(kinds)}`)
      .join(', ');
    const pass =
      forbidden.length === 0 &&
      outageAnswers.length > 0 &&
      recoverMs <= RETRY_INTERVAL_MS + SLACK_MS &&
      after > 0;
    outcome.pass = pass;
    // 503s per second of the run, to show when the outage began and ended.
    const perSecond = new Map<number, number>();
    for (const f of outageAnswers) {
      const second = Math.floor((f.at - started) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    const timeline = [...perSecond].map(([second, n]) => `${second}s:${n}`).join(' ');
    process.stdout.write(
      [
        `== memcached drill (${values.database} + memcached, tabs cache-only; server: ${SERVER_KIND === 'serve' ? 'syncstorage serve' : 'scripts/drill-server.ts'}): ${pass ? 'PASS' : 'FAIL'}`,
        `requests:                 ${summary.requests} (${summary.scenarios} scenarios, ${summary.scenariosPerSecond}/s)`,
        `errors by status:         ${errors || 'none'}`,
        `503 + Retry-After during the outage (tabs, writes): ${outageAnswers.length}`,
        `other unexpected answers: ${forbidden.length} (5xx among them: ${serverErrors})`,
        `outage:                   memcached down ${seconds(restartedAt - killedAt)} s`,
        `seconds to recover:       ${seconds(recoverMs)} after memcached returned (retry interval ${seconds(RETRY_INTERVAL_MS)} s)`,
        `successes after recovery: ${after} requests`,
        `503s per second of run:   ${timeline}`,
        ...forbidden
          .slice(0, 10)
          .map(
            (f) =>
              `  ${seconds(f.at - started)} s ${f.kind} uid ${f.uid}: ${f.key} after ${Math.round(f.ms)} ms`,
          ),
        outageAnswers.length === 0 ? '  the outage was not observed: no 503 on tabs' : '',
      ].join('\n') + '\n',
    );
  } finally {
    await server.stop();
  }
} finally {
  await memcached.stop();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = outcome.pass ? 0 : 1;
