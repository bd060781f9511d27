/**
 * `syncstorage loadtest`: simulated Firefox clients against a running server
 * (see src/loadtest/). Progress goes to stderr; the report (text, or JSON
 * with --json) to stdout. Exits 1 when any request got an unexpected answer.
 * With --fxa-key or --fxa-tokens each client starts at the token server.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import {
  endProgress,
  formatSummary,
  loadListedAccounts,
  loadSigningKey,
  LoadOptionsError,
  progressReporter,
  publicJwkOf,
  runLoad,
  summarize,
  type TokenserverMode,
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
  fxaKey?: string;
  fxaTokens?: string;
  printFxaJwk: boolean;
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

/** A new RS256 key in `path` (PKCS#8 PEM, mode 0600); never overwrites one. */
function createSigningKeyFile(path: string): void {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  try {
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (error) {
    throw new LoadOptionsError('fxa-key', `cannot create ${path}: ${(error as Error).message}`);
  }
}

function tokenserverMode(flags: LoadtestFlags): TokenserverMode | undefined {
  if (flags.fxaKey !== undefined && flags.fxaTokens !== undefined) {
    throw new LoadOptionsError('fxa-tokens', 'give --fxa-key or --fxa-tokens, not both');
  }
  if (flags.fxaKey !== undefined) return { signingKey: loadSigningKey(flags.fxaKey) };
  if (flags.fxaTokens !== undefined) return { accounts: loadListedAccounts(flags.fxaTokens) };
  return undefined;
}

export function registerLoadtestCommand(program: Command): void {
  const command = program
    .command('loadtest')
    .description('run simulated Firefox Sync clients against a server and report the figures')
    .addHelpText(
      'after',
      `
Token-server mode (--fxa-key or --fxa-tokens): each client first asks
GET <url>/1.0/sync/1.5 for its Hawk credentials and storage node, as Firefox
does, with an FxA OAuth token:
  syncstorage loadtest --fxa-key fxa-key.pem --print-fxa-jwk > fxa-jwk.json
  SYNC_TOKENSERVER__FXA_OAUTH_PRIMARY_JWK="$(cat fxa-jwk.json)" syncstorage serve
  syncstorage loadtest --fxa-key fxa-key.pem --users 100 --duration 30
--fxa-tokens lists tokens a real FxA issued (one "<token> [<X-KeyID>]" a line,
one user each), which the server verifies against its --fxa-oauth-server-url.`,
    )
    .option(
      '--url <url>',
      'server origin (the token server, in token-server mode)',
      'http://127.0.0.1:8000',
    )
    .option(
      '--secret-file <path>',
      "file holding the master secret, e.g. serve's <data-dir>/master-secret (default: $SYNC_MASTER_SECRET)",
    )
    .option('--secret <secret>', 'the master secret itself (visible in ps: prefer the two above)')
    .option('--users <n>', 'simulated users', number, 100)
    .option('--duration <seconds>', 'seconds to run', number, 30)
    .option('--concurrency <n>', 'scenarios in flight', number, 20)
    .option(
      '--first-uid <uid>',
      'uid of the first simulated user (token-server mode: its FxA account is named after it)',
      number,
      100000,
    )
    .option('--seed <n>', 'seed of the request mix', number)
    .option('--tabs', 'also sync the tabs collection each time', false)
    .option('--timeout <ms>', 'ms before a request is abandoned', number, 30000)
    .option('--json', 'print the report as JSON', false)
    .option(
      '--fxa-key <file>',
      "token-server mode: RS256 private key (PEM or JWK) signing the simulated accounts' OAuth tokens; the server needs its public JWK (--print-fxa-jwk)",
    )
    .option(
      '--fxa-tokens <file>',
      'token-server mode: FxA access tokens, one "<token> [<X-KeyID>]" a line, one user each',
    )
    .option(
      '--print-fxa-jwk',
      'print the public JWK of --fxa-key (creating the key, mode 0600, when the file is missing) and exit',
      false,
    );
  command.action(async (flags: LoadtestFlags) => {
    try {
      if (flags.printFxaJwk) {
        if (flags.fxaKey === undefined) {
          throw new LoadOptionsError('print-fxa-jwk', 'needs --fxa-key <file>');
        }
        if (!existsSync(flags.fxaKey)) createSigningKeyFile(flags.fxaKey);
        process.stdout.write(`${JSON.stringify(publicJwkOf(loadSigningKey(flags.fxaKey)))}\n`);
        return;
      }
      const tokenserver = tokenserverMode(flags);
      const secret = tokenserver
        ? undefined
        : (flags.secret ?? secretFromFile(flags.secretFile) ?? process.env.SYNC_MASTER_SECRET);
      const run = await runLoad(
        {
          url: flags.url,
          secret,
          tokenserver,
          // With --fxa-tokens the default is one user per token.
          users:
            command.getOptionValueSource('users') === 'default' && tokenserver?.accounts
              ? undefined
              : flags.users,
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
