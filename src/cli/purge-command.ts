/**
 * `syncstorage purge`: incremental purge of expired rows (bounded statements,
 * no long transaction), printing progress after each step.
 */
import { Option, type Command } from 'commander';
import { addTableOptions, configFile } from './command-options.js';
import { CliConfigError, loadServeConfig } from './config/load-config.js';
import { openDatabase } from './open-storage.js';

function count(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) {
    throw new CliConfigError(`invalid ${name}: expected an integer ≥ 0`);
  }
  return Number(value);
}

export function registerPurgeCommand(program: Command): void {
  const command = program
    .command('purge')
    .description('delete expired items and batches from the database, with progress output')
    .addOption(
      new Option('--grace-period <seconds>', 'keep rows this long past expiry (default 0)'),
    )
    .addOption(new Option('--max-per-loop <rows>', 'rows deleted per statement (default 1000)'));
  addTableOptions(command, ['database', 'dataDir']).action(
    async (flags: Record<string, unknown>) => {
      const { gracePeriod, maxPerLoop, ...rest } = flags;
      const config = loadServeConfig({
        flags: rest,
        env: process.env,
        file: configFile(flags, process.env),
      });
      const options = {
        gracePeriod: count('--grace-period', gracePeriod),
        maxPerLoop: count('--max-per-loop', maxPerLoop),
      };
      const storage = await openDatabase(config.database);
      try {
        const result = await storage.purgeExpiredItems({
          ...options,
          onProgress: (p) =>
            process.stdout.write(
              `purged ${p.bsoRowsPurged} items, ${p.batchesPurged} batches, ${p.batchItemsPurged} batch items so far\n`,
            ),
        });
        process.stdout.write(
          `done: ${result.bsoRowsPurged} items, ${result.batchesPurged} batches, ` +
            `${result.batchItemsPurged} batch items purged${result.isComplete ? '' : ' (incomplete: run again)'}\n`,
        );
      } finally {
        await storage.close();
      }
    },
  );
}
