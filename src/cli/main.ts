#!/usr/bin/env node
// The `syncstorage` command. Subcommands are registered in their own files.
import { Command } from 'commander';
import { registerLoadtestCommand } from './loadtest-command.js';

const program = new Command()
  .name('syncstorage')
  .description('A Firefox Sync storage server (SyncStorage API 1.5)');

program
  .command('serve')
  .description('run the storage server')
  .action(() => {
    console.error('serve: the HTTP server is not built yet (issue 6)');
    process.exitCode = 1;
  });

registerLoadtestCommand(program);

await program.parseAsync(process.argv);
