/**
 * `npm run bench:http`: the SyncStorage server on SQLite under autocannon,
 * beside a bare Fastify handler returning a fixed JSON object (the framework
 * ceiling), in the same run. Each server runs in its own child process
 * (bench/http-bench-server.mjs, the built code in plain Node) so the load
 * generator does not share its event loop. Every sync request carries a
 * fresh Hawk header (new nonce, real MAC), as clients send them.
 *
 * Each scenario is warmed up unmeasured, then measured in ROUNDS rounds that
 * take every scenario in turn; a ratio is the median of per-round ratios.
 *
 * Target: GET info/collections ≥ 50 % of the ceiling. Two rows: the bare SQL
 * backend, and the embedded default (`serve`'s storage: the in-process cache
 * layer in front of the same SQLite).
 *
 * BENCH_SECONDS (5), BENCH_WARMUP_SECONDS (3), BENCH_ROUNDS (5); BENCH_ONLY=info
 * runs the matching scenarios and the ceiling; BENCH_PROFILE=<dir> writes the
 * servers' CPU profiles. Neither kind of partial run overwrites the results.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { buildHawkHeader } from '../src/server/auth/hawk.js';
import { cpuMicros } from './process-cpu.js';
import { mintToken } from '../src/server/auth/tokenlib.js';

// Given to the servers (BENCH_SECRET), which verify what this signs.
const MASTER_SECRET = 'bench master secret';
const UID = 1;
const CONNECTIONS = 50;
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SERVER_SCRIPT = new URL('./http-bench-server.mjs', import.meta.url).pathname;

function startChild(kind: string, env: Record<string, string>): Promise<Server> {
  const child = fork(SERVER_SCRIPT, [kind], {
    execArgv: process.env.BENCH_PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
      : [],
    env: { ...process.env, BENCH_SECRET: MASTER_SECRET, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) =>
      resolve({ child, port: (message as { port: number }).port }),
    );
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
}

const token = mintToken(MASTER_SECRET, {
  uid: UID,
  node: 'http://127.0.0.1',
  expires: Math.floor(Date.now() / 1000) + 3600,
});

/** A fresh Hawk header (new nonce, current ts) for one request. */
function authorization(port: number, method: string, path: string): string {
  return buildHawkHeader(token.id, token.key, {
    method,
    resource: path,
    host: '127.0.0.1',
    port,
    ts: String(Math.floor(Date.now() / 1000)),
    nonce: randomBytes(6).toString('base64url'),
  });
}

function signed(
  port: number,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
): autocannon.Request {
  return {
    method,
    path,
    ...(body === undefined ? {} : { body }),
    // Called for every request: each gets its own nonce, so none is a replay.
    setupRequest: (request) => ({
      ...request,
      headers: {
        ...request.headers,
        'content-type': 'application/json',
        authorization: authorization(port, method, path),
      },
    }),
  };
}

interface Server {
  child: ChildProcess;
  port: number;
}

interface Scenario {
  name: string;
  server: Server;
  request: autocannon.Request;
}

interface Sample {
  requestsPerSecond: number;
  /** The server process's user + system CPU per response (Linux /proc), µs; null elsewhere. */
  serverCpuUsPerRequest: number | null;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

async function run(scenario: Scenario, seconds: number): Promise<Sample> {
  const cpuBefore = cpuMicros(scenario.server.child.pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${scenario.server.port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [scenario.request],
  });
  const cpuAfter = cpuMicros(scenario.server.child.pid);
  return {
    requestsPerSecond: Math.round(result.requests.average),
    serverCpuUsPerRequest:
      cpuBefore === null || cpuAfter === null || result.requests.total === 0
        ? null
        : Math.round((cpuAfter - cpuBefore) / result.requests.total),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function seed(port: number): Promise<void> {
  const items = Array.from({ length: 100 }, (_, i) => ({
    id: `item${i}`,
    payload: 'x'.repeat(200),
    sortindex: i,
  }));
  for (const collection of ['bookmarks', 'history', 'meta', 'clients', 'full100']) {
    const path = `/1.5/${UID}/storage/${collection}`;
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: authorization(port, 'POST', path),
      },
      body: JSON.stringify(items),
    });
    if (res.status !== 200) throw new Error(`seeding ${collection}: ${res.status}`);
  }
}

const CEILING = 'bare Fastify, fixed JSON (ceiling)';
const INFO = 'GET info/collections';
const EMBEDDED_INFO = 'GET info/collections, embedded default (+ in-process cache)';

async function main(): Promise<void> {
  if (!existsSync(new URL('../dist/server/app.js', import.meta.url))) {
    throw new Error(
      'dist/ is missing: run `npm run bench:http` (it builds first) or `npm run build`',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-http-'));
  const bare = await startChild('bare', {});
  const sync = await startChild('sync', { BENCH_DB: join(dir, 'bench.db') });
  const embedded = await startChild('embedded', { BENCH_DB: join(dir, 'embedded.db') });
  const samples = new Map<string, Sample[]>();
  try {
    await seed(sync.port);
    await seed(embedded.port);
    const posted = JSON.stringify(
      Array.from({ length: 100 }, (_, i) => ({ id: `p${i}`, payload: 'y'.repeat(200) })),
    );
    // The ceiling gets the same client work as the signed scenarios (a fresh
    // Hawk header per request, which autocannon builds in this process), so
    // the ratio compares server work only; the bare server ignores the header.
    const all: Scenario[] = [
      { name: CEILING, server: bare, request: signed(bare.port, 'GET', '/json') },
      {
        name: 'bare Fastify, unsigned client (reference)',
        server: bare,
        request: { method: 'GET', path: '/json' },
      },
      {
        name: 'GET /__lbheartbeat__ (no auth)',
        server: sync,
        request: { method: 'GET', path: '/__lbheartbeat__' },
      },
      {
        name: INFO,
        server: sync,
        request: signed(sync.port, 'GET', `/1.5/${UID}/info/collections`),
      },
      {
        name: EMBEDDED_INFO,
        server: embedded,
        request: signed(embedded.port, 'GET', `/1.5/${UID}/info/collections`),
      },
      {
        name: 'GET 100 items, full=1',
        server: sync,
        request: signed(sync.port, 'GET', `/1.5/${UID}/storage/full100?full=1`),
      },
      {
        name: 'POST 100 records',
        server: sync,
        request: signed(sync.port, 'POST', `/1.5/${UID}/storage/posts`, posted),
      },
    ];
    // BENCH_ONLY=info (a substring of a scenario name) runs just that one
    // and the ceiling, for profiling.
    const only = process.env.BENCH_ONLY;
    const scenarios = all.filter((s) => !only || s.name === CEILING || s.name.includes(only));
    // A server that has just started runs its code unoptimized for a while:
    // measure each one warm, as a server that has been up for a while.
    for (const scenario of scenarios) {
      console.error(`warming up: ${scenario.name}`);
      await run(scenario, WARMUP_SECONDS);
    }
    // Rounds take every scenario in turn, so a slow spell of this shared
    // machine hits all of them; each round's ratio compares neighbours.
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of scenarios) {
        const sample = await run(scenario, DURATION_SECONDS);
        console.error(
          `round ${round}/${ROUNDS}: ${scenario.name}: ${sample.requestsPerSecond} req/s`,
        );
        samples.set(scenario.name, [...(samples.get(scenario.name) ?? []), sample]);
      }
    }
  } finally {
    bare.child.kill('SIGTERM');
    sync.child.kill('SIGTERM');
    embedded.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }

  const rows = [...samples].map(([scenario, runs]) => ({
    scenario,
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    perRound: runs.map((r) => r.requestsPerSecond),
    serverCpuUsPerRequest: runs.every((r) => r.serverCpuUsPerRequest !== null)
      ? median(runs.map((r) => r.serverCpuUsPerRequest!))
      : null,
    latencyP50Ms: median(runs.map((r) => r.latencyP50Ms)),
    latencyP99Ms: median(runs.map((r) => r.latencyP99Ms)),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  }));
  // The ratio of each round (neighbouring runs), then their median.
  const ratio = (name: string) => {
    const ceiling = samples.get(CEILING)!;
    const runs = samples.get(name);
    return runs
      ? median(runs.map((r, i) => r.requestsPerSecond / ceiling[i]!.requestsPerSecond))
      : 0;
  };
  console.table(
    rows.map((r) => ({
      scenario: r.scenario,
      'req/s (median)': r.requestsPerSecond,
      '% of ceiling': `${(100 * ratio(r.scenario)).toFixed(1)} %`,
      'per round': r.perRound.join(' / '),
      'server CPU µs/req': r.serverCpuUsPerRequest,
      'p50 ms': r.latencyP50Ms,
      'p99 ms': r.latencyP99Ms,
      non2xx: r.non2xx,
      errors: r.errors,
    })),
  );
  const infoRatio = ratio(INFO);
  const embeddedRatio = ratio(EMBEDDED_INFO);
  const verdict = (x: number) => (x >= 0.5 ? 'met' : 'NOT met');
  console.log(
    `info/collections / ceiling, median of ${ROUNDS} rounds: bare SQL backend ${(100 * infoRatio).toFixed(1)} % ` +
      `(target ≥ 50 %: ${verdict(infoRatio)}); embedded default ${(100 * embeddedRatio).toFixed(1)} % ` +
      `(${verdict(embeddedRatio)})`,
  );
  // A partial (BENCH_ONLY) or profiled run is not a result to keep.
  if (process.env.BENCH_ONLY || process.env.BENCH_PROFILE) return;
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('./results/http.json', import.meta.url),
    `${JSON.stringify(
      {
        benchmark: 'http',
        date: new Date().toISOString(),
        node: process.version,
        connections: CONNECTIONS,
        durationSeconds: DURATION_SECONDS,
        warmupSeconds: WARMUP_SECONDS,
        rounds: ROUNDS,
        rows,
        infoCollectionsToCeiling: Number(infoRatio.toFixed(3)),
        embeddedInfoCollectionsToCeiling: Number(embeddedRatio.toFixed(3)),
        target: 0.5,
      },
      null,
      2,
    )}\n`,
  );
}

await main();
