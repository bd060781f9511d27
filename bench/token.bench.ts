/**
 * `npm run bench:token`: `GET /1.0/sync/1.5` for a returning user (the user
 * row exists; the FxA access token is an RS256 JWT checked against a local
 * JWK, as Firefox reuses its token until it expires), beside a bare Fastify
 * handler returning a same-sized JSON answer (the framework ceiling), in the
 * same run. Each server runs in its own process as built
 * (bench/token-bench-server.mjs over `dist/`, plain Node, with the logger
 * `syncstorage tokenserver` runs), so the load generator does not share its
 * event loop. Warm-up unmeasured, then BENCH_ROUNDS rounds taking each
 * server in turn; the ratio is the median of per-round ratios. The machine's
 * load average is printed and recorded beside the figures.
 * Target: ≥ 40 % of the ceiling.
 *
 * BENCH_SECONDS (5), BENCH_WARMUP_SECONDS (2), BENCH_ROUNDS (5);
 * BENCH_PROFILE=<dir> writes the servers' CPU profiles (the results are then
 * not written).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cpuMicros } from './process-cpu.js';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const SECRET = 'bench master secret';
const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PROFILE = process.env.BENCH_PROFILE;
const SCRIPT = new URL('./token-bench-server.mjs', import.meta.url).pathname;
if (!existsSync(new URL('../dist/tokenserver/index.js', import.meta.url))) {
  throw new Error(
    'dist/ is missing: run `npm run bench:token` (it builds first) or `npm run build`',
  );
}

const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench' };
const now = Math.floor(Date.now() / 1000);
const accessToken = await new SignJWT({
  scope: 'profile https://identity.mozilla.com/apps/oldsync',
  'fxa-generation': 1_700_000_000_000,
})
  .setProtectedHeader({ alg: 'RS256', typ: 'at+JWT', kid: 'bench' })
  .setSubject('0123456789abcdef0123456789abcdef')
  .setIssuedAt(now)
  .setExpirationTime(now + 7200)
  .sign(privateKey);
const headers = {
  authorization: `Bearer ${accessToken}`,
  'x-keyid': `1700000000000-${Buffer.from('abcdef0123456789', 'hex').toString('base64url')}`,
  accept: 'application/json',
};

interface Server {
  child: ChildProcess;
  port: number;
}

function start(kind: string): Promise<Server> {
  const child = fork(SCRIPT, [kind], {
    execArgv: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [],
    env: {
      ...process.env,
      BENCH_SECRET: SECRET,
      BENCH_JWK: JSON.stringify(jwk),
      BENCH_DIR: mkdtempSync(join(tmpdir(), 'bench-token-')),
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, port: (m as { port: number }).port }));
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
}

async function load(server: Server, seconds: number) {
  const cpuBefore = cpuMicros(server.child.pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/1.0/sync/1.5`,
    connections: CONNECTIONS,
    duration: seconds,
    headers,
  });
  const cpuAfter = cpuMicros(server.child.pid);
  return {
    requestsPerSecond: Math.round(result.requests.average),
    serverCpuUsPerRequest:
      cpuBefore === null || cpuAfter === null || result.requests.total === 0
        ? null
        : Math.round((cpuAfter - cpuBefore) / result.requests.total),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const loadBefore = loadavg()[0]!;
const ceiling = await start('ceiling');
const token = await start('token');
try {
  // The first request creates the user; every later one is a returning user.
  const first = await fetch(`http://127.0.0.1:${token.port}/1.0/sync/1.5`, { headers });
  if (first.status !== 200)
    throw new Error(`token server answered ${first.status}: ${await first.text()}`);
  await load(ceiling, WARMUP);
  await load(token, WARMUP);
  const samples: Record<string, Array<Awaited<ReturnType<typeof load>>>> = {
    ceiling: [],
    token: [],
  };
  for (let round = 0; round < ROUNDS; round++) {
    samples.ceiling!.push(await load(ceiling, SECONDS));
    samples.token!.push(await load(token, SECONDS));
  }
  const ratio = median(
    samples.token!.map((s, i) => s.requestsPerSecond / samples.ceiling![i]!.requestsPerSecond),
  );
  const rows = [
    ['bare Fastify, same-sized JSON (ceiling)', samples.ceiling!],
    ['GET /1.0/sync/1.5, returning user, local JWK', samples.token!],
  ] as const;
  const summary = rows.map(([scenario, runs]) => ({
    scenario,
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    perRound: runs.map((r) => r.requestsPerSecond),
    serverCpuUsPerRequest: median(runs.map((r) => r.serverCpuUsPerRequest ?? Number.NaN)),
    latencyP50Ms: median(runs.map((r) => r.latencyP50Ms)),
    latencyP99Ms: median(runs.map((r) => r.latencyP99Ms)),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
  }));
  console.log(
    'scenario'.padEnd(48),
    'req/s'.padStart(8),
    'CPU µs/req'.padStart(11),
    'p50 ms'.padStart(7),
    'p99 ms'.padStart(7),
    'non-2xx'.padStart(8),
  );
  for (const row of summary) {
    console.log(
      row.scenario.padEnd(48),
      String(row.requestsPerSecond).padStart(8),
      String(row.serverCpuUsPerRequest).padStart(11),
      String(row.latencyP50Ms).padStart(7),
      String(row.latencyP99Ms).padStart(7),
      String(row.non2xx).padStart(8),
    );
  }
  const loadAfter = loadavg()[0]!;
  const percent = (x: number) => `${(x * 100).toFixed(1)} %`;
  const perRound = samples.token!.map(
    (s, i) => s.requestsPerSecond / samples.ceiling![i]!.requestsPerSecond,
  );
  // The same comparison in server CPU per request: less moved by other load.
  const [ceilingCpu, tokenCpu] = summary.map((row) => row.serverCpuUsPerRequest);
  const cpuRatio = ceilingCpu! / tokenCpu!;
  console.log(`token server / ceiling: ${percent(ratio)} (target ≥ 40 %)`);
  console.log(`per-round ratios: ${perRound.map(percent).join(', ')}`);
  console.log(`ceiling CPU / token server CPU per request: ${percent(cpuRatio)}`);
  console.log(
    `load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after (${availableParallelism()} cores)`,
  );
  if (PROFILE) {
    console.log(`profiles in ${PROFILE} (results not written)`);
  } else {
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(
      new URL('./results/token.json', import.meta.url),
      `${JSON.stringify(
        {
          benchmark: 'token',
          date: new Date().toISOString(),
          node: process.version,
          server: 'dist/ (built), plain Node, buffered JSON logger to /dev/null',
          loadAverage: { before: loadBefore, after: loadAfter },
          connections: CONNECTIONS,
          durationSeconds: SECONDS,
          warmupSeconds: WARMUP,
          rounds: ROUNDS,
          rows: summary,
          ratio: Math.round(ratio * 1000) / 1000,
          perRoundRatios: perRound.map((r) => Math.round(r * 1000) / 1000),
          cpuPerRequestRatio: Math.round(cpuRatio * 1000) / 1000,
          target: 0.4,
        },
        null,
        2,
      )}\n`,
    );
  }
} finally {
  // SIGTERM: the servers close and exit, writing their CPU profiles.
  const exited = [ceiling, token].map(
    (server) => new Promise((resolve) => server.child.once('exit', resolve)),
  );
  ceiling.child.kill();
  token.child.kill();
  await Promise.all(exited);
}
