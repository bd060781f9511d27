#!/usr/bin/env node
// The `syncstorage` command. Subcommands are registered in their own files.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from '../server/config/server-config.js';
import { CliConfigError } from './config/load-config.js';
import { registerImportCommand } from './import-command.js';
import { registerLoadtestCommand } from './loadtest-command.js';
import { registerNodesCommand } from './nodes-command.js';
import { registerUsersCommand } from './users-command.js';
import { registerBackupCommands } from './backup-commands.js';
import { registerStorageUserCommands, registerUsageCommand } from './usage-commands.js';
import { registerPurgeCommand } from './purge-command.js';
import { registerServeCommand } from './serve-command.js';
import { StartupError } from './startup-error.js';
import { registerTokenCommand } from './token-command.js';
import { registerTokenserverCommand } from './tokenserver-command.js';

// src/cli/ and dist/cli/ are both two levels below package.json.
const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const program = new Command()
  .name('syncstorage')
  .description('A Firefox Sync storage server (SyncStorage API 1.5)')
  .version(version);

registerServeCommand(program, version);
registerTokenserverCommand(program, version);
registerTokenCommand(program);
registerPurgeCommand(program);
registerNodesCommand(program);
registerStorageUserCommands(registerUsersCommand(program));
registerUsageCommand(program);
registerBackupCommands(program);
registerImportCommand(program);
registerLoadtestCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`syncstorage: ${failureLine(error)}\n`);
  if (wantsStack()) process.stderr.write(`${stackOf(error)}\n`);
  // 2: an option is wrong; 1: the environment (database, port, files).
  process.exitCode = error instanceof CliConfigError || error instanceof ConfigError ? 2 : 1;
}

/** The one line: our own errors say cause and option; anything else says what it is. */
function failureLine(error: unknown): string {
  if (
    error instanceof CliConfigError ||
    error instanceof ConfigError ||
    error instanceof StartupError
  ) {
    return error.message;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `${message} (run with --log-level debug for the stack)`;
}

/** `--log-level debug|trace` (flag or SYNC_LOG_LEVEL): start-up errors come with their stack. */
function wantsStack(): boolean {
  const args = process.argv;
  const index = args.indexOf('--log-level');
  const level =
    (index >= 0 ? args[index + 1] : undefined) ??
    args.find((a) => a.startsWith('--log-level='))?.slice('--log-level='.length) ??
    process.env.SYNC_LOG_LEVEL;
  return level === 'debug' || level === 'trace';
}

function stackOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth += 1) {
    parts.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\ncaused by: ');
}
