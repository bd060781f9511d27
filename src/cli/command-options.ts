/** Adds options of the table to a commander command, with their variables in the help. */
import { Option, type Command } from 'commander';
import { envName, SERVE_OPTIONS } from './config/option-table.js';

/**
 * `names` picks options of the table (default all); `descriptions` says what
 * an option means to this command when it is not serve's meaning (`token
 * --port` names the node in the token, it listens nowhere).
 */
export function addTableOptions(
  command: Command,
  names?: readonly string[],
  descriptions: Readonly<Record<string, string>> = {},
): Command {
  for (const spec of SERVE_OPTIONS) {
    if (names && !names.includes(spec.name)) continue;
    const flags =
      spec.kind !== 'boolean'
        ? `${spec.flag} <value>`
        : spec.takesValue
          ? `${spec.flag} [true|false]`
          : spec.flag;
    const description = descriptions[spec.name] ?? spec.description;
    command.addOption(new Option(flags, `${description} [env ${envName(spec)}]`));
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
