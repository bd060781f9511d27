/**
 * `syncstorage import --from URL`: move in from syncstorage-rs (MySQL, PostgreSQL) or
 * Mozilla's old Python server (src/import/import-run.ts), into the database
 * `serve` uses. Exit 1 when a user was refused or the verification found a
 * difference.
 */
import { Option, type Command } from 'commander';
import { addTableOptions, commandConfig } from './command-options.js';
import { CliConfigError } from './config/load-config.js';
import { openDatabase, openDriver } from './open-storage.js';
import { openSqlDriver } from '../sql/open-sql-driver.js';
import { runImport } from '../import/import-run.js';

function userList(value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,19}(,\d{1,19})*$/.test(value)) {
    throw new CliConfigError('invalid --users: expected user ids separated by commas (1,2,3)');
  }
  return value.split(',').map(Number);
}

/** The URL without its password, for output and the progress table. */
function redacted(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export function registerImportCommand(program: Command): void {
  const command = program
    .command('import')
    .description(
      "copy users' data from another server's database (syncstorage-rs MySQL or PostgreSQL, Mozilla's old Python server, or ours) into this one",
    )
    .addOption(
      new Option(
        '--from <url>',
        'the source database: mysql://…, postgres://…, sqlite:<path>',
      ).makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--tokenserver-from <url>',
        "the token server's database when it is separate (syncstorage-rs's tokenserver database): its users, nodes and services are copied, uids unchanged",
      ),
    )
    .addOption(new Option('--users <ids>', 'only these user ids (comma-separated)'))
    .addOption(new Option('--dry-run', 'detect the source and count what would be copied'))
    .addOption(new Option('--overwrite', "replace a user's data that differs on the target"))
    .addHelpText(
      'after',
      '\nStop the old server first: the import refuses a source written in the last minute.\n' +
        'Collection timestamps are kept, so Firefox uploads nothing again. Interrupted, it\n' +
        'resumes where it stopped when run again; the end prints a verification of every\n' +
        'collection (count, timestamp, SHA-256 on both sides).',
    );
  addTableOptions(command, ['database', 'dataDir']).action(
    async (flags: Record<string, unknown>) => {
      const { from, tokenserverFrom, users, dryRun, overwrite, ...rest } = flags;
      const config = commandConfig(rest);
      const source = await openSqlDriver({ url: String(from) });
      const tokenserverSource =
        typeof tokenserverFrom === 'string'
          ? await openSqlDriver({ url: tokenserverFrom }).catch(async (error: unknown) => {
              await source.close();
              throw error;
            })
          : undefined;
      try {
        const target = await openDriver(config.database, { dataDir: config.dataDir });
        const targetStorage = await openDatabase(config.database, {
          dataDir: config.dataDir,
          driver: target,
        });
        try {
          const result = await runImport({
            source,
            tokenserverSource,
            target,
            targetStorage,
            users: userList(users),
            dryRun: dryRun === true,
            overwrite: overwrite === true,
            sourceLabel: redacted(String(from)),
            progress: (line) => process.stdout.write(line),
          });
          if (dryRun === true) return;
          for (const { userId, reason } of result.refused) {
            process.stdout.write(`refused: uid ${userId}: ${reason}\n`);
          }
          process.stdout.write(
            `done: ${result.imported} users imported, ${result.skipped} already there, ` +
              `${result.refused.length} refused, ${result.rows} rows\n` +
              (result.differences.length === 0
                ? 'verified: no differences\n'
                : `verified: ${result.differences.length} collections differ (listed above)\n`),
          );
          if (result.refused.length > 0 || result.differences.length > 0) process.exitCode = 1;
        } finally {
          await targetStorage.close();
        }
      } finally {
        await source.close();
        await tokenserverSource?.close();
      }
    },
  );
}
