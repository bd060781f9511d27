#!/usr/bin/env node
// The `syncstorage` command. Subcommands are registered in their own files.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from '../server/config/server-config.js';
import { CliConfigError } from './config/load-config.js';
import { registerLoadtestCommand } from './loadtest-command.js';
import { registerNodesCommand } from './nodes-command.js';
import { registerUsersCommand } from './users-command.js';
import { registerPurgeCommand } from './purge-command.js';
import { registerServeCommand } from './serve-command.js';
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
registerUsersCommand(program);
registerLoadtestCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CliConfigError || error instanceof ConfigError) {
    process.stderr.write(`syncstorage: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
