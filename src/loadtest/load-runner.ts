/**
 * Runs simulated Firefox clients against a server for a while: `concurrency`
 * workers, each running scenarios back to back over its share of the users
 * (with fewer users than workers, users are shared like several devices of
 * one account). Clients sign with tokens minted from the master secret, or
 * (`tokenserver`) start at the token server, which names their storage node.
 */
import { FirefoxScenario, SimulatedUser } from './firefox-scenario.js';
import { SignedAccount, simulatedFxaUid, type FxaAccount } from './fxa-accounts.js';
import { HttpTransport } from './http-transport.js';
import { resolveLoadOptions, type LoadOptions, type ResolvedLoadOptions } from './load-options.js';
import { RandomSource } from './random-source.js';
import { RecordFactory } from './record-factory.js';
import { RequestStats } from './request-stats.js';
import { TokenserverCredentials } from './session-credentials.js';
import { SyncSession } from './sync-session.js';
import type { WriteLedger } from './write-ledger.js';

export interface RunHooks {
  /** Keep a ledger of writes (crash drill). */
  ledger?: WriteLedger;
  /** Stop starting scenarios early. */
  signal?: AbortSignal;
  /** Called about once a second with the live counters. */
  onTick?: (stats: RequestStats, elapsedSeconds: number) => void;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

export interface LoadRun {
  options: ResolvedLoadOptions;
  stats: RequestStats;
  /** From the first scenario to the last one's end, seconds. */
  elapsedSeconds: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runLoad(input: LoadOptions, hooks: RunHooks = {}): Promise<LoadRun> {
  const options = resolveLoadOptions(input);
  const clock = hooks.clock ?? Date.now;
  // One kept-alive transport per server URL (token server, storage nodes).
  const transports = new Map<string, HttpTransport>();
  const transportFor = (baseUrl: string): HttpTransport => {
    let transport = transports.get(baseUrl);
    if (!transport) {
      transport = new HttpTransport({
        baseUrl,
        maxSockets: options.concurrency,
        timeoutMs: options.timeoutMs,
      });
      transports.set(baseUrl, transport);
    }
    return transport;
  };
  const random = new RandomSource(options.seed);
  const stats = new RequestStats(clock);
  const scenario = new FirefoxScenario({
    random,
    records: new RecordFactory(random),
    stats,
    tabs: options.tabs,
    ledger: hooks.ledger,
  });
  const { tokenserver } = options;
  // Token-server mode: simulated account i is named after firstUid + i (the server allocates uids).
  const accountOf = (i: number): FxaAccount =>
    tokenserver?.accounts?.[i] ??
    new SignedAccount(tokenserver!.signingKey!, simulatedFxaUid(options.firstUid + i), clock);
  const sessionOf = (i: number): SyncSession =>
    tokenserver
      ? new SyncSession({
          credentials: new TokenserverCredentials({
            transport: transportFor(options.url),
            account: accountOf(i),
            clock,
          }),
          transportFor,
          clock,
        })
      : SyncSession.minted({
          transport: transportFor(options.url),
          masterSecret: options.secret,
          uid: options.firstUid + i,
          tokenSeconds: Math.ceil(options.durationSeconds) + 3600,
          clock,
        });
  const users: SimulatedUser[] = [];
  for (let i = 0; i < options.users; i++) users.push(new SimulatedUser(sessionOf(i)));

  const started = clock();
  const deadline = started + options.durationSeconds * 1000;
  const running = (): boolean => clock() < deadline && !hooks.signal?.aborted;

  // Worker i owns users i, i+C, i+2C…: with users ≥ concurrency, no user runs twice at once.
  const shareOf = (index: number): SimulatedUser[] =>
    users.length < options.concurrency
      ? [users[index % users.length] as SimulatedUser]
      : users.filter((_, u) => u % options.concurrency === index);

  async function worker(index: number): Promise<void> {
    const own = shareOf(index);
    for (let turn = 0; running(); turn++) {
      const user = own[turn % own.length] as SimulatedUser;
      const failuresBefore = stats.failures;
      const requestsBefore = stats.requests;
      // A bug of ours must not end the whole run: count the scenario as failed.
      const ok = await scenario.run(user).catch(() => false);
      stats.scenarioDone(ok);
      // Server down: every request fails at once; do not spin.
      if (!ok && stats.requests - requestsBefore === stats.failures - failuresBefore) {
        await sleep(options.errorPauseMs);
      }
    }
  }

  const ticker = hooks.onTick
    ? setInterval(() => hooks.onTick?.(stats, (clock() - started) / 1000), 1000)
    : undefined;
  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  } finally {
    if (ticker) clearInterval(ticker);
    for (const transport of transports.values()) transport.close();
  }
  return { options, stats, elapsedSeconds: (clock() - started) / 1000 };
}
