/**
 * The purge of expired rows, run by the server itself every
 * `--purge-interval-seconds` (0: never; then run `syncstorage purge` from
 * cron), one run at a time, with its status for the admin page and its
 * figures for the metrics. A failed run is logged and retried at the next
 * interval.
 */
import type { PurgeResult, SyncStorage } from '../storage/sync-storage.js';
import type { PurgeObserver } from './metrics/server-metrics.js';

export interface PurgeStatus {
  intervalSeconds: number;
  running: boolean;
  /** ISO times. */
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  lastResult: PurgeResult | null;
  lastError: string | null;
  nextRunAt: string | null;
  runs: number;
}

export interface PurgeSchedulerOptions {
  storage: SyncStorage;
  intervalSeconds: number;
  observer?: PurgeObserver;
  log?: {
    info(fields: object, message: string): void;
    error(fields: object, message: string): void;
  };
  clock?: () => number;
}

export class PurgeScheduler {
  readonly #options: PurgeSchedulerOptions;
  readonly #clock: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<PurgeResult | null> | undefined;
  #status: PurgeStatus;

  constructor(options: PurgeSchedulerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#status = {
      intervalSeconds: options.intervalSeconds,
      running: false,
      lastStartedAt: null,
      lastFinishedAt: null,
      lastResult: null,
      lastError: null,
      nextRunAt: null,
      runs: 0,
    };
  }

  start(): void {
    if (this.#options.intervalSeconds <= 0 || this.#timer) return;
    const ms = this.#options.intervalSeconds * 1000;
    this.#timer = setInterval(() => void this.runNow(), ms);
    this.#timer.unref();
    this.#status.nextRunAt = new Date(this.#clock() + ms).toISOString();
  }

  /** Stop the timer and wait for a run in progress. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#status.nextRunAt = null;
    await this.#running;
  }

  /** Run now (or join the run in progress); null when it failed. */
  runNow(): Promise<PurgeResult | null> {
    this.#running ??= this.#run().finally(() => (this.#running = undefined));
    return this.#running;
  }

  status(): PurgeStatus {
    return { ...this.#status };
  }

  async #run(): Promise<PurgeResult | null> {
    const started = this.#clock();
    this.#status.running = true;
    this.#status.lastStartedAt = new Date(started).toISOString();
    let result: PurgeResult | null = null;
    try {
      result = await this.#options.storage.purgeExpiredItems();
      this.#status.lastResult = result;
      this.#status.lastError = null;
      this.#options.log?.info({ ...result }, 'purge finished');
    } catch (error) {
      this.#status.lastError = error instanceof Error ? error.message : String(error);
      this.#options.log?.error({ err: error }, 'purge failed');
    } finally {
      const finished = this.#clock();
      this.#status.running = false;
      this.#status.runs++;
      this.#status.lastFinishedAt = new Date(finished).toISOString();
      if (this.#timer) {
        this.#status.nextRunAt = new Date(
          finished + this.#options.intervalSeconds * 1000,
        ).toISOString();
      }
      this.#options.observer?.purgeFinished(result, (finished - started) / 1000);
    }
    return result;
  }
}
