/**
 * `npm run bench:http`: the SyncStorage server on SQLite under autocannon,
 * beside a bare Fastify handler returning a fixed JSON object (the framework
 * ceiling), in the same run. Each server runs in its own child process so the
 * load generator does not share its event loop. Every sync request carries a
 * fresh Hawk header (new nonce, real MAC), as clients send them.
 *
 * Target: GET info/collections ≥ 50 % of the ceiling (on the bare SQL
 * backend; a second row shows the embedded default, which adds the in-process
 * cache layer in front of the same SQLite).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { buildHawkHeader } from '../src/server/auth/hawk.js';
import { mintToken } from '../src/server/auth/tokenlib.js';

const MASTER_SECRET = 'bench master secret';
const UID = 1;
const CONNECTIONS = 50;
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

// --- Child side: run one server and report its port.

async function runServer(kind: string): Promise<void> {
  const { default: Fastify } = await import('fastify');
  let app;
  if (kind === 'bare') {
    app = Fastify({ logger: false });
    const fixed = { bookmarks: 1700000000.12, history: 1700000001.34, meta: 1700000002.56 };
    app.get('/json', async () => fixed);
  } else {
    const { buildApp } = await import('../src/server/app.js');
    const { createLogger } = await import('../src/server/logging/logger.js');
    const { openSqlStorage } = await import('../src/storage/sql/index.js');
    const database = await openSqlStorage({ url: `sqlite:${process.env.BENCH_DB}` });
    // `embedded`: what `syncstorage serve` runs on by default — the same
    // SQLite under the cached layer with the in-process store, which answers
    // info/collections from its metadata entry without SQL.
    let storage = database;
    if (kind === 'embedded') {
      const { createCachedStorage } = await import('../src/storage/cached/index.js');
      const { MemoryStore } = await import('../src/memcache/index.js');
      storage = createCachedStorage({
        storage: database,
        cache: new MemoryStore(),
        cachedCollections: ['meta', 'clients'],
        cacheOnlyCollections: [],
      });
    }
    // Logs go to stdout, which the parent sends to /dev/null: the cost of
    // one JSON line per request is part of the measurement.
    app = buildApp({
      storage,
      config: { masterSecret: MASTER_SECRET },
      ...(process.env.BENCH_NO_LOG ? {} : { logger: createLogger({ buffered: true }) }),
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

// --- Parent side.

function startChild(
  kind: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(new URL(import.meta.url).pathname, ['--server', kind], {
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
        : []),
    ],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) =>
      resolve({ child, port: (message as { port: number }).port }),
    );
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
}

interface Row {
  scenario: string;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

const token = mintToken(MASTER_SECRET, {
  uid: UID,
  node: 'http://127.0.0.1',
  expires: Math.floor(Date.now() / 1000) + 3600,
});

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
        authorization: buildHawkHeader(token.id, token.key, {
          method,
          resource: path,
          host: '127.0.0.1',
          port,
          ts: String(Math.floor(Date.now() / 1000)),
          nonce: randomBytes(6).toString('base64url'),
        }),
      },
    }),
  };
}

async function measure(scenario: string, port: number, request: autocannon.Request): Promise<Row> {
  // BENCH_ONLY=info (a substring of a scenario name) runs just that one, for profiling.
  const only = process.env.BENCH_ONLY;
  if (only && !scenario.includes(only) && !scenario.includes('bare')) {
    return {
      scenario,
      requestsPerSecond: 0,
      latencyP50Ms: 0,
      latencyP99Ms: 0,
      non2xx: 0,
      errors: 0,
    };
  }
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: DURATION_SECONDS,
    requests: [request],
  });
  return {
    scenario,
    requestsPerSecond: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
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
        authorization: buildHawkHeader(token.id, token.key, {
          method: 'POST',
          resource: path,
          host: '127.0.0.1',
          port,
          ts: String(Math.floor(Date.now() / 1000)),
          nonce: randomBytes(6).toString('base64url'),
        }),
      },
      body: JSON.stringify(items),
    });
    if (res.status !== 200) throw new Error(`seeding ${collection}: ${res.status}`);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-http-'));
  const rows: Row[] = [];
  const bare = await startChild('bare', {});
  const sync = await startChild('sync', { BENCH_DB: join(dir, 'bench.db') });
  const embedded = await startChild('embedded', { BENCH_DB: join(dir, 'embedded.db') });
  try {
    await seed(sync.port);
    await seed(embedded.port);
    // The ceiling gets the same client work as the signed scenarios (a fresh
    // Hawk header per request, which autocannon builds in this process), so
    // the ratio compares server work only; the bare server ignores the header.
    rows.push(
      await measure(
        'bare Fastify, fixed JSON (ceiling)',
        bare.port,
        signed(bare.port, 'GET', '/json'),
      ),
    );
    rows.push(
      await measure('bare Fastify, unsigned client (reference)', bare.port, {
        method: 'GET',
        path: '/json',
      }),
    );
    rows.push(
      await measure('GET /__lbheartbeat__ (no auth)', sync.port, {
        method: 'GET',
        path: '/__lbheartbeat__',
      }),
    );
    rows.push(
      await measure(
        'GET info/collections',
        sync.port,
        signed(sync.port, 'GET', `/1.5/${UID}/info/collections`),
      ),
    );
    rows.push(
      await measure(
        'GET info/collections, embedded default (+ in-process cache)',
        embedded.port,
        signed(embedded.port, 'GET', `/1.5/${UID}/info/collections`),
      ),
    );
    rows.push(
      await measure(
        'GET 100 items, full=1',
        sync.port,
        signed(sync.port, 'GET', `/1.5/${UID}/storage/full100?full=1`),
      ),
    );
    const posted = JSON.stringify(
      Array.from({ length: 100 }, (_, i) => ({ id: `p${i}`, payload: 'y'.repeat(200) })),
    );
    rows.push(
      await measure(
        'POST 100 records',
        sync.port,
        signed(sync.port, 'POST', `/1.5/${UID}/storage/posts`, posted),
      ),
    );
  } finally {
    bare.child.kill('SIGTERM');
    sync.child.kill('SIGTERM');
    embedded.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }

  const ceiling = rows[0]!.requestsPerSecond;
  const infoRatio =
    rows.find((r) => r.scenario === 'GET info/collections')!.requestsPerSecond / ceiling;
  console.table(
    rows.map((r) => ({
      scenario: r.scenario,
      'req/s': r.requestsPerSecond,
      '% of ceiling': `${((100 * r.requestsPerSecond) / ceiling).toFixed(1)} %`,
      'p50 ms': r.latencyP50Ms,
      'p99 ms': r.latencyP99Ms,
      non2xx: r.non2xx,
      errors: r.errors,
    })),
  );
  const verdict = infoRatio >= 0.5 ? 'met' : 'NOT met';
  console.log(
    `info/collections / ceiling = ${(100 * infoRatio).toFixed(1)} % (target ≥ 50 %: ${verdict})`,
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
        rows,
        infoCollectionsToCeiling: Number(infoRatio.toFixed(3)),
        target: 0.5,
      },
      null,
      2,
    )}\n`,
  );
}

const serverIndex = process.argv.indexOf('--server');
if (serverIndex !== -1) {
  await runServer(process.argv[serverIndex + 1] ?? 'sync');
} else {
  await main();
}
