/**
 * Multi-node drill (`npm run drill:nodes`, issue 13): several `serve`
 * processes on one PostgreSQL and one memcached, each reaching memcached
 * through a TCP proxy the drill controls, behind a round-robin HTTP
 * balancer that spreads every user's requests over all of them. Meanwhile
 * the drill (1) kills memcached and restarts it, (2) cuts one process off
 * from memcached only, (3) kills one process with `kill -9` and restarts it.
 *
 * Two checkers:
 * - the load generator's write ledger (src/loadtest): every acknowledged
 *   write is in the database at the end, no half batch visible;
 * - probes: a few users write `meta/global` with `X-If-Unmodified-Since`
 *   and read it back through other processes. A read older than the newest
 *   write acknowledged before it began is a stale read; a write with a stale
 *   precondition that is accepted is a lost update.
 *
 * Apart from 503 with Retry-After, no 5xx. It also checks that a second
 * process on one SQLite file, and a second in-process-cache process on the
 * PostgreSQL, refuse to start. One verdict line at the end; exit 1 if it fails.
 *
 *   npm run drill:nodes
 *   npm run drill:nodes -- --nodes 2 --retry-seconds 2
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  freePort,
  startMemcached,
  startPostgres,
  startTcpProxy,
  type TcpProxy,
} from '@syncstorage-ts/test-support';
import {
  HttpTransport,
  runLoad,
  summarize,
  verifyLedger,
  WriteLedger,
} from '../src/loadtest/index.js';
import { buildHawkHeader } from '../src/server/auth/hawk.js';
import { mintToken, type MintedToken } from '../src/server/auth/tokenlib.js';
import { seconds, sleep, startDrillServer, type DrillServer } from './drill-process.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    users: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '8' },
    probes: { type: 'string', default: '4' },
    // The memcached client's dead-server interval (serve --memcached-retry-seconds).
    'retry-seconds': { type: 'string', default: '2' },
  },
});
const SECRET = 'multi-node drill secret';
const NODES = Math.max(2, Number(values.nodes));
const RETRY_SECONDS = Number(values['retry-seconds']);
// The schedule, seconds from the start of the load.
const MEMCACHED_KILL = 4;
const MEMCACHED_BACK = 9;
const CUT = 14;
const CUT_END = 19;
const NODE_KILL = 23;
const NODE_BACK = 25;
const DURATION = 32;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Round robin per request; a backend that refuses the connection is skipped (a balancer's health check). */
async function startBalancer(backends: () => string[]): Promise<{ url: string; close(): void }> {
  const port = await freePort();
  let next = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const targets = backends();
      const attempt = (tries: number): void => {
        const target = new URL(targets[next++ % targets.length] as string);
        const out = http.request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
            agent,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        out.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ECONNREFUSED' && tries < targets.length) attempt(tries + 1);
          // Cut mid-request (kill -9): no answer, as the client would see it.
          else res.destroy();
        });
        out.end(body);
      };
      attempt(1);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.close();
      agent.destroy();
    },
  };
}

interface ProbeCounts {
  reads: number;
  staleReads: number;
  writes: number;
  refused: number;
  staleAccepted: number;
  stalePreconditionsTried: number;
  serverErrors: number;
  samples: string[];
  /** When each probe write was acknowledged (ms since the epoch). */
  acknowledgedAt: number[];
}

/** One probe user writing and reading meta/global through every process in turn. */
class Probe {
  private readonly token: MintedToken;
  /** The newest acknowledged write: its X-Last-Modified and payload. */
  private latest: { ts: string; payload: string } | undefined;
  private seq = 0;
  private nonce = 0;

  constructor(
    private readonly uid: number,
    private readonly nodes: DrillServer[],
    private readonly counts: ProbeCounts,
  ) {
    this.token = mintToken(SECRET, {
      uid,
      node: 'http://drill',
      expires: Math.floor(Date.now() / 1000) + 3600,
    });
  }

  private async send(
    node: DrillServer,
    method: string,
    path: string,
    body?: string,
    extra: Record<string, string> = {},
  ) {
    const transport = transportOf(node);
    const resource = `/1.5/${this.uid}${path}`;
    const authorization = buildHawkHeader(this.token.id, this.token.key, {
      method,
      resource,
      host: transport.origin.hostname,
      port: transport.port,
      ts: String(Math.floor(Date.now() / 1000)),
      nonce: `p${this.uid}-${this.nonce++}`,
    });
    const headers: Record<string, string> = {
      host: transport.origin.host,
      authorization,
      ...extra,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const result = await transport.request(method, resource, headers, body);
    if (result.status >= 500 && !(result.status === 503 && result.headers['retry-after'])) {
      this.counts.serverErrors++;
      this.note(`${method} ${path} on ${node.url}: ${result.status} ${result.body.slice(0, 80)}`);
    }
    return result;
  }

  private note(line: string): void {
    if (this.counts.samples.length < 10) this.counts.samples.push(`uid ${this.uid}: ${line}`);
  }

  private pick(): DrillServer {
    return this.nodes[Math.floor(Math.random() * this.nodes.length)] as DrillServer;
  }

  async round(): Promise<void> {
    // A write with the newest precondition, through any process.
    const payload = `p${this.seq++}`;
    const body = JSON.stringify({ payload });
    const pre: Record<string, string> = this.latest
      ? { 'x-if-unmodified-since': this.latest.ts }
      : {};
    const put = await this.send(this.pick(), 'PUT', '/storage/meta/global', body, pre);
    if (put.status === 200) {
      const previous = this.latest;
      this.latest = { ts: String(put.headers['x-last-modified']), payload };
      this.counts.writes++;
      this.counts.acknowledgedAt.push(Date.now());
      // The same old precondition again, through another process: must be 412.
      if (previous) {
        this.counts.stalePreconditionsTried++;
        const stale = await this.send(
          this.pick(),
          'PUT',
          '/storage/meta/global',
          JSON.stringify({ payload: `stale${this.seq}` }),
          { 'x-if-unmodified-since': previous.ts },
        );
        if (stale.status === 200) {
          this.counts.staleAccepted++;
          this.note(`a PUT with the stale X-If-Unmodified-Since ${previous.ts} was accepted`);
          this.latest = {
            ts: String(stale.headers['x-last-modified']),
            payload: `stale${this.seq}`,
          };
        }
      }
    } else if (put.status === 412 || put.status === 503 || put.status === 0) {
      // 412: a write of ours answered after a cut (unknown outcome) moved it on; re-learn it.
      if (put.status !== 0) this.counts.refused++;
      await this.relearn();
      return;
    }
    // Read it back through any process: never older than what was acknowledged.
    const expected = this.latest;
    if (!expected) return;
    const read = await this.send(this.pick(), 'GET', '/storage/meta/global');
    if (read.status === 200) {
      this.counts.reads++;
      const got = JSON.parse(read.body) as { payload: string; modified: number };
      if (Math.round(got.modified * 100) < Math.round(Number(expected.ts) * 100)) {
        this.counts.staleReads++;
        this.note(`read ${got.payload}@${got.modified} after ${expected.payload}@${expected.ts}`);
      }
    }
  }

  /** After an unknown outcome: take the truth as it is now (any process, the database behind it). */
  private async relearn(): Promise<void> {
    const read = await this.send(this.pick(), 'GET', '/storage/meta/global');
    if (read.status !== 200) return;
    const got = JSON.parse(read.body) as { payload: string; modified: number };
    if (!this.latest || got.modified >= Number(this.latest.ts)) {
      this.latest = { ts: got.modified.toFixed(2), payload: got.payload };
    }
  }

  /** At the end: the newest acknowledged write is what every process answers. */
  async final(): Promise<number> {
    if (!this.latest) return 0;
    let lost = 0;
    for (const node of this.nodes) {
      const read = await this.send(node, 'GET', '/storage/meta/global');
      const got = read.status === 200 ? (JSON.parse(read.body) as { payload: string }) : undefined;
      if (got?.payload !== this.latest.payload) {
        lost++;
        this.note(
          `at the end ${node.url} answers ${got?.payload ?? read.status}, not ${this.latest.payload}`,
        );
      }
    }
    return lost;
  }
}

const transports = new Map<string, HttpTransport>();
function transportOf(node: DrillServer): HttpTransport {
  let transport = transports.get(node.url);
  if (!transport) {
    transport = new HttpTransport({ baseUrl: node.url, timeoutMs: 10_000 });
    transports.set(node.url, transport);
  }
  return transport;
}

/** Whether `serve` with these flags refuses to start (one line naming the way out). */
async function refuses(args: string[]): Promise<boolean> {
  try {
    const server = await startDrillServer(args, SECRET);
    await server.kill9();
    return false;
  } catch (error) {
    return /--memcached[^\n]*--cache none/.test(String(error));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'drill-nodes-'));
const [postgres, memcached] = await Promise.all([startPostgres(), startMemcached()]);
const proxies: TcpProxy[] = [];
const nodes: DrillServer[] = [];
const outcome = { pass: false };
try {
  for (let i = 0; i < NODES; i++) {
    const proxy = await startTcpProxy(memcached.port);
    proxies.push(proxy);
    nodes.push(
      await startDrillServer(
        [
          '--database',
          postgres.url,
          '--memcached',
          proxy.address,
          '--memcached-retry-seconds',
          String(RETRY_SECONDS),
        ],
        SECRET,
      ),
    );
  }
  log(`${NODES} serve processes up: ${nodes.map((n) => n.url).join(' ')}`);
  const balancer = await startBalancer(() => nodes.map((n) => n.url));

  const ledger = new WriteLedger();
  const load = runLoad(
    {
      url: balancer.url,
      secret: SECRET,
      users: Number(values.users),
      concurrency: Number(values.concurrency),
      durationSeconds: DURATION,
      timeoutMs: 10_000,
    },
    { ledger },
  );
  const counts: ProbeCounts = {
    reads: 0,
    staleReads: 0,
    writes: 0,
    refused: 0,
    staleAccepted: 0,
    stalePreconditionsTried: 0,
    serverErrors: 0,
    samples: [],
    acknowledgedAt: [],
  };
  const probes = Array.from(
    { length: Number(values.probes) },
    (_, i) => new Probe(900_000 + i, nodes, counts),
  );
  const started = Date.now();
  const probing = Promise.all(
    probes.map(async (probe) => {
      while (Date.now() - started < DURATION * 1000) await probe.round();
    }),
  );
  const at = async (second: number, what: string, act: () => Promise<void> | void) => {
    await sleep(Math.max(0, started + second * 1000 - Date.now()));
    await act();
    log(`${seconds(Date.now() - started)} s: ${what}`);
  };
  let memcachedBackAt = 0;
  await at(MEMCACHED_KILL, 'memcached killed (SIGKILL)', () => memcached.kill());
  await at(MEMCACHED_BACK, 'memcached restarted (empty)', async () => {
    await memcached.start();
    memcachedBackAt = Date.now();
  });
  await at(CUT, `node 1 cut off from memcached (its proxy)`, () => proxies[0]?.cut());
  await at(CUT_END, 'node 1 reconnected', () => proxies[0]?.restore());
  const victim = nodes[NODES - 1] as DrillServer;
  await at(NODE_KILL, `node ${NODES} killed (kill -9)`, () => victim.kill9());
  await at(NODE_BACK, `node ${NODES} restarted`, () => victim.start());
  const [run] = await Promise.all([load, probing]);
  balancer.close();

  // Recovery: from memcached's return to the first probe write acknowledged after it.
  const firstAfter = counts.acknowledgedAt.filter((t) => t >= memcachedBackAt).sort()[0];
  const recoveryMs = firstAfter === undefined ? Infinity : firstAfter - memcachedBackAt;

  const summary = summarize(run);
  const loadServerErrors = run.stats.failureLog.filter(
    (f) => /^5/.test(f.key) && f.key !== '503',
  ).length;
  const verdict = await verifyLedger({
    transport: new HttpTransport({ baseUrl: nodes[0]!.url }),
    masterSecret: SECRET,
    ledger,
  });
  let finalLost = 0;
  for (const probe of probes) finalLost += await probe.final();

  const sqliteFile = `sqlite:${join(dir, 'one.db')}`;
  const sqliteOwner = await startDrillServer(['--database', sqliteFile], SECRET);
  const refusals = [
    await refuses(['--database', sqliteFile]),
    await refuses(['--database', postgres.url]),
  ];
  await sqliteOwner.stop();

  const lostWrites = verdict.lost + verdict.corrupt + finalLost;
  const halfBatches = verdict.halfApplied + verdict.uncommittedVisible;
  const serverErrors = loadServerErrors + counts.serverErrors;
  const pass =
    counts.staleReads === 0 &&
    counts.staleAccepted === 0 &&
    lostWrites === 0 &&
    halfBatches === 0 &&
    serverErrors === 0 &&
    refusals.every(Boolean) &&
    counts.reads > 0 &&
    Number.isFinite(recoveryMs);
  outcome.pass = pass;
  const errors = Object.entries(summary.failuresByStatus)
    .map(([status, kinds]) => `${status} ${JSON.stringify(kinds)}`)
    .join(', ');
  process.stdout.write(
    [
      `== multi-node drill: ${NODES} serve processes, PostgreSQL + memcached (retry ${RETRY_SECONDS} s)`,
      `load:           ${summary.requests} requests, ${ledger.writesAcknowledged} acknowledged item writes, answers other than 2xx/304: ${errors || 'none'}`,
      `probes:         ${counts.writes} writes acknowledged, ${counts.refused} refused (503/412), ${counts.reads} reads checked, ${counts.stalePreconditionsTried} stale preconditions tried`,
      `ledger:         ${verdict.checked} items checked, ${verdict.intact} intact, ${verdict.explained} explained by unanswered requests`,
      `refusals:       second serve on one SQLite file ${refusals[0] ? 'refused' : 'STARTED'}; second in-process-cache serve on the PostgreSQL ${refusals[1] ? 'refused' : 'STARTED'}`,
      ...counts.samples.map((s) => `  ${s}`),
      ...verdict.samples.map((s) => `  ${s}`),
      `verdict: ${pass ? 'PASS' : 'FAIL'} — stale reads ${counts.staleReads}, lost updates ${counts.staleAccepted}, lost writes ${lostWrites}, half batches ${halfBatches}, 5xx ${serverErrors}; recovery ${Number.isFinite(recoveryMs) ? `${seconds(recoveryMs)} s` : 'never'} after memcached returned`,
      '',
    ].join('\n'),
  );
} finally {
  await Promise.all(nodes.map((n) => n.kill9()));
  await Promise.all(proxies.map((p) => p.close()));
  await Promise.all([memcached.stop(), postgres.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(outcome.pass ? 0 : 1);
