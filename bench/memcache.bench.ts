/**
 * npm run bench:memcache — MemcachedClient against memjs, memcached (npm) and a
 * raw pipelined socket sending ready-made meta lines (the ceiling), against one
 * local memcached this script starts. One run; prints a table and writes
 * bench/results/memcache.json. See bench/README.md for what each number means.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Memcached from 'memcached';
import memjs from 'memjs';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import { startMemcached } from '@syncstorage-ts/test-support';

const SECONDS_PER_CASE = Number(process.env.BENCH_SECONDS ?? 0.5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const VALUE = Buffer.alloc(100, 'v');
const KEYS = Array.from({ length: 100 }, (_, i) => `bench:key:${i}`);

type Op = () => Promise<unknown>;

/** A client under test: one function per scenario, each doing one operation. */
interface Subject {
  name: string;
  get: Op;
  set: Op;
  /** Fetch all of KEYS; counts as KEYS.length operations. */
  getMulti: Op;
  close(): Promise<void> | void;
}

/** Run `op` from `concurrency` loops for SECONDS_PER_CASE; operations per second. */
async function measure(op: Op, concurrency: number, opsPerCall = 1): Promise<number> {
  // Warm up (connections, JIT) before the clock starts.
  for (let i = 0; i < 50; i++) await op();
  const deadline = performance.now() + SECONDS_PER_CASE * 1000;
  let calls = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op();
        calls++;
      }
    }),
  );
  return (calls * opsPerCall) / ((performance.now() - start) / 1000);
}

function ours(address: string): Subject {
  const client = new MemcachedClient({ servers: [address] });
  let i = 0;
  return {
    name: 'MemcachedClient (this)',
    get: () => client.get(KEYS[i++ % KEYS.length] as string),
    set: () => client.set(KEYS[i++ % KEYS.length] as string, VALUE),
    getMulti: () => client.getMulti(KEYS),
    close: () => client.close(),
  };
}

function memjsSubject(address: string): Subject {
  const client = memjs.Client.create(address, { logger: { log: () => undefined } });
  let i = 0;
  return {
    name: 'memjs',
    get: () => client.get(KEYS[i++ % KEYS.length] as string),
    set: () => client.set(KEYS[i++ % KEYS.length] as string, VALUE, {}),
    // memjs 1.3 has no multi-get: the usual workaround, concurrent gets.
    getMulti: () => Promise.all(KEYS.map((key) => client.get(key))),
    close: () => client.close(),
  };
}

function memcachedNpm(address: string): Subject {
  const client = new Memcached(address, { retries: 0, timeout: 2000 });
  let i = 0;
  const call = <T>(fn: (cb: (err: unknown, value: T) => void) => void) =>
    new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
  return {
    name: 'memcached (npm)',
    get: () => call((cb) => client.get(KEYS[i++ % KEYS.length] as string, cb)),
    set: () => call((cb) => client.set(KEYS[i++ % KEYS.length] as string, VALUE, 0, cb)),
    getMulti: () => call((cb) => client.getMulti(KEYS, cb)),
    close: () => client.end(),
  };
}

/**
 * The ceiling: one socket, requests as ready-made bytes, each call's batch in
 * one write, answers only counted by length (every response has a known size).
 * Concurrent callers share the socket, so depth matches the others' concurrency.
 */
async function raw(host: string, port: number): Promise<Subject> {
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once('connect', resolve));
  const waiting: Array<{ bytes: number; resolve: () => void }> = [];
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    while (waiting.length > 0 && received >= (waiting[0] as { bytes: number }).bytes) {
      const head = waiting.shift() as { bytes: number; resolve: () => void };
      received -= head.bytes;
      head.resolve();
    }
  });
  let pendingOut: Buffer[] = [];
  const send = (request: Buffer, answerBytes: number) =>
    new Promise<void>((resolve) => {
      waiting.push({ bytes: answerBytes, resolve });
      if (pendingOut.length === 0) {
        process.nextTick(() => {
          socket.write(
            pendingOut.length === 1 ? (pendingOut[0] as Buffer) : Buffer.concat(pendingOut),
          );
          pendingOut = [];
        });
      }
      pendingOut.push(request);
    });
  // Ready-made requests over the same 100 keys the clients use.
  const getLines = KEYS.map((k) => Buffer.from(`mg ${k} v\r\n`));
  const getAnswer = `VA ${VALUE.length}\r\n`.length + VALUE.length + 2;
  const setLines = KEYS.map((k) =>
    Buffer.concat([Buffer.from(`ms ${k} ${VALUE.length}\r\n`), VALUE, Buffer.from('\r\n')]),
  );
  const multiLine = Buffer.from(KEYS.map((k) => `mg ${k} v q\r\n`).join('') + 'mn\r\n');
  const multiAnswer = KEYS.length * getAnswer + 'MN\r\n'.length;
  let i = 0;
  return {
    name: 'raw socket (ceiling)',
    get: () => send(getLines[i++ % KEYS.length] as Buffer, getAnswer),
    set: () => send(setLines[i++ % KEYS.length] as Buffer, 'HD\r\n'.length),
    getMulti: () => send(multiLine, multiAnswer),
    close: () => void socket.destroy(),
  };
}

interface Row {
  client: string;
  [scenario: string]: number | string;
}

async function main(): Promise<void> {
  const server = await startMemcached({ memoryMb: 64 });
  const results: Row[] = [];
  try {
    const seed = new MemcachedClient({ servers: [server.address] });
    for (const key of KEYS) await seed.set(key, VALUE);
    await seed.close();
    const subjects = [
      await raw(server.host, server.port),
      ours(server.address),
      memjsSubject(server.address),
      memcachedNpm(server.address),
    ];
    const rows = subjects.map((subject): Row => ({ client: subject.name }));
    const scenarios: Array<[string, (s: Subject) => Op, number, number]> = [
      ['get c=1', (s) => s.get, 1, 1],
      ['get c=100', (s) => s.get, 100, 1],
      ['set c=1', (s) => s.set, 1, 1],
      ['set c=100', (s) => s.set, 100, 1],
      ['getMulti 100 keys', (s) => s.getMulti, 1, KEYS.length],
    ];
    // The machine is shared: rounds interleave the clients so a burst of
    // outside load hits all of them, and each keeps its best round.
    for (const [name, op, concurrency, perCall] of scenarios) {
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, subject] of subjects.entries()) {
          const row = rows[i] as Row;
          const rate = await measure(op(subject), concurrency, perCall);
          row[name] = Math.max((row[name] as number | undefined) ?? 0, rate);
        }
      }
      console.error(`done: ${name}`);
    }
    for (const subject of subjects) await subject.close();
    results.push(...rows);
  } finally {
    await server.stop();
  }
  report(results);
}

function report(results: Row[]): void {
  const scenarios = Object.keys(results[0] as Row).filter((k) => k !== 'client');
  const find = (name: string) => results.find((r) => r.client.startsWith(name)) as Row;
  const ceiling = find('raw');
  const mine = find('MemcachedClient');
  const peers = [find('memjs'), find('memcached (npm)')];
  const ratios: Record<string, { vsBestPeer: number; vsCeiling: number }> = {};
  for (const s of scenarios) {
    const best = Math.max(...peers.map((p) => p[s] as number));
    ratios[s] = {
      vsBestPeer: (mine[s] as number) / best,
      vsCeiling: (mine[s] as number) / (ceiling[s] as number),
    };
  }
  const pad = (text: string, width: number) => text.padStart(width);
  const header = ['client'.padEnd(24), ...scenarios.map((s) => pad(s, 18))].join('');
  console.log(
    `\nops/s, best of ${ROUNDS} interleaved rounds of ${SECONDS_PER_CASE}s, 100-byte values, one memcached\n`,
  );
  console.log(header);
  for (const row of results) {
    console.log(
      [
        row.client.padEnd(24),
        ...scenarios.map((s) => pad(Math.round(row[s] as number).toLocaleString('en'), 18)),
      ].join(''),
    );
  }
  console.log(
    [
      'this / best peer'.padEnd(24),
      ...scenarios.map((s) => pad(`${ratios[s]?.vsBestPeer.toFixed(2)}x`, 18)),
    ].join(''),
  );
  console.log(
    [
      'this / raw ceiling'.padEnd(24),
      ...scenarios.map((s) => pad(`${((ratios[s]?.vsCeiling ?? 0) * 100).toFixed(0)}%`, 18)),
    ].join(''),
  );
  const here = dirname(fileURLToPath(import.meta.url));
  const out = join(here, 'results', 'memcache.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        bench: 'memcache',
        date: new Date().toISOString(),
        node: process.version,
        secondsPerRound: SECONDS_PER_CASE,
        rounds: ROUNDS,
        statistic: 'best round',
        valueBytes: VALUE.length,
        opsPerSecond: results,
        ratios,
        targets: {
          'get c=100 vs best peer >= 4': ratios['get c=100']?.vsBestPeer,
          'set c=100 vs best peer >= 4': ratios['set c=100']?.vsBestPeer,
          'get c=100 vs raw ceiling >= 0.7': ratios['get c=100']?.vsCeiling,
        },
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
