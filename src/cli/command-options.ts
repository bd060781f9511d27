/** Adds options of the table to a commander command, with their variables in the help. */
import { Option, type Command } from 'commander';
import { envName, SERVE_OPTIONS } from './config/option-table.js';

export function addTableOptions(command: Command, names?: readonly string[]): Command {
  for (const spec of SERVE_OPTIONS) {
    if (names && !names.includes(spec.name)) continue;
    const flags =
      spec.kind !== 'boolean'
        ? `${spec.flag} <value>`
        : spec.takesValue
          ? `${spec.flag} [true|false]`
          : spec.flag;
    command.addOption(new Option(flags, `${spec.description} [env ${envName(spec)}]`));
  }
  return command.addOption(
    new Option(
      '--config <file>',
      'JSON configuration file (keys as the variables, nested) [env SYNC_CONFIG]',
    ),
  );
}

/** The `--config` file from the flag or SYNC_CONFIG. */
export function configFile(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): string | undefined {
  return typeof flags.config === 'string' ? flags.config : env.SYNC_CONFIG;
}
