/**
 * `syncstorage purge`: incremental purge of expired rows (bounded statements,
 * no long transaction), printing progress after each step.
 */
import { Option, type Command } from 'commander';
import { addTableOptions, commandConfig } from './command-options.js';
import { CliConfigError } from './config/load-config.js';
import { purgeReplacedUsers } from '../tokenserver/replaced-purge.js';
import { purgeProgressPrinter } from './purge-progress.js';
import { openDatabase, openDriver } from './open-storage.js';
import { withTokenserverStore } from './open-tokenserver.js';

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
    .addOption(new Option('--max-per-loop <rows>', 'rows deleted per statement (default 1000)'))
    .addOption(
      new Option(
        '--replaced-grace-period <seconds>',
        'delete the storage of users the token server replaced longer ago than this (default 604800, 7 days)',
      ),
    )
    .addOption(new Option('--no-replaced', 'leave the storage of replaced users alone'))
    .addHelpText(
      'after',
      '\nReplaced users: with the token server on this node (serve), a user moved to a new\n' +
        'uid (new keys, or node reassignment) leaves the old uid behind; after the grace\n' +
        'period its storage and its users row are deleted. Rows of other nodes are left alone.',
    );
  addTableOptions(command, [
    'database',
    'dataDir',
    'tokenserverDatabase',
    'publicUrl',
    'host',
    'port',
    'tokenserverEnabled',
  ]).action(async (flags: Record<string, unknown>) => {
    const { gracePeriod, maxPerLoop, replacedGracePeriod, replaced, ...rest } = flags;
    const config = commandConfig(rest);
    const options = {
      gracePeriod: count('--grace-period', gracePeriod),
      maxPerLoop: count('--max-per-loop', maxPerLoop),
    };
    const replacedGrace = count('--replaced-grace-period', replacedGracePeriod) ?? 604_800;
    // Never a new, empty database in the wrong folder: purge needs one that exists.
    const where = { dataDir: config.dataDir, mustExist: 'purge' };
    const driver = await openDriver(config.database, where);
    const storage = await openDatabase(config.database, { ...where, driver });
    try {
      const result = await storage.purgeExpiredItems({
        ...options,
        onProgress: purgeProgressPrinter((line) => process.stdout.write(line)),
      });
      process.stdout.write(
        `done: ${result.bsoRowsPurged} items, ${result.batchesPurged} batches, ` +
          `${result.batchItemsPurged} batch items purged${result.isComplete ? '' : ' (incomplete: run again)'}\n`,
      );
      if (replaced !== false && config.tokenserver.enabled) {
        const node = config.publicUrl ?? `http://${config.host}:${config.port}`;
        const done = await withTokenserverStore(config, (store) =>
          purgeReplacedUsers({
            store,
            storage,
            node,
            graceMs: replacedGrace * 1000,
            onProgress: (p) =>
              process.stdout.write(`replaced users: ${p.usersPurged} purged so far\n`),
          }),
        );
        process.stdout.write(
          `done: ${done.usersPurged} replaced users purged on ${node}` +
            `${done.otherNodes ? ` (${done.otherNodes} of other nodes left)` : ''}\n`,
        );
      }
    } finally {
      await storage.close();
    }
  });
}
