/**
 * `syncstorage loadtest`: simulated Firefox clients against a running server
 * (see src/loadtest/). Progress goes to stderr; the report (text, or JSON
 * with --json) to stdout. Exits 1 when any request got an unexpected answer.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import {
  endProgress,
  formatSummary,
  LoadOptionsError,
  progressReporter,
  runLoad,
  summarize,
} from '../loadtest/index.js';

function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new InvalidArgumentError(`expected a number, got ${value}`);
  }
  return n;
}

interface LoadtestFlags {
  url: string;
  secret?: string;
  secretFile?: string;
  users: number;
  duration: number;
  concurrency: number;
  firstUid: number;
  seed?: number;
  tabs: boolean;
  timeout: number;
  json: boolean;
}

/** The secret in `path` (trimmed), read here so argv never has to carry it. */
function secretFromFile(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new LoadOptionsError('secret-file', `cannot read ${path}: ${(error as Error).message}`);
  }
}

export function registerLoadtestCommand(program: Command): void {
  program
    .command('loadtest')
    .description('run simulated Firefox Sync clients against a server and report the figures')
    .option('--url <url>', 'server origin', 'http://127.0.0.1:8000')
    .option(
      '--secret-file <path>',
      "file holding the master secret, e.g. serve's <data-dir>/master-secret (default: $SYNC_MASTER_SECRET)",
    )
    .option('--secret <secret>', 'the master secret itself (visible in ps: prefer the two above)')
    .option('--users <n>', 'simulated users', number, 100)
    .option('--duration <seconds>', 'seconds to run', number, 30)
    .option('--concurrency <n>', 'scenarios in flight', number, 20)
    .option('--first-uid <uid>', 'uid of the first simulated user', number, 100000)
    .option('--seed <n>', 'seed of the request mix', number)
    .option('--tabs', 'also sync the tabs collection each time', false)
    .option('--timeout <ms>', 'ms before a request is abandoned', number, 30000)
    .option('--json', 'print the report as JSON', false)
    .action(async (flags: LoadtestFlags) => {
      try {
        const secret =
          flags.secret ?? secretFromFile(flags.secretFile) ?? process.env.SYNC_MASTER_SECRET;
        const run = await runLoad(
          {
            url: flags.url,
            secret: secret ?? '',
            users: flags.users,
            durationSeconds: flags.duration,
            concurrency: flags.concurrency,
            firstUid: flags.firstUid,
            seed: flags.seed,
            tabs: flags.tabs,
            timeoutMs: flags.timeout,
          },
          { onTick: progressReporter(process.stderr) },
        );
        endProgress(process.stderr);
        const summary = summarize(run);
        process.stdout.write(
          flags.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`,
        );
        if (summary.failures > 0) process.exitCode = 1;
      } catch (error) {
        if (!(error instanceof LoadOptionsError)) throw error;
        console.error(`loadtest: ${error.message}`);
        process.exitCode = 2;
      }
    });
}
