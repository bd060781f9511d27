/**
 * A command's options: those of the table added to a commander command
 * (their variables in the help), and the configuration they resolve to.
 */
import { Option, type Command } from 'commander';
import { loadServeConfig, unknownVariables, type ServeConfig } from './config/load-config.js';
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

/** A warning at start: one line on stderr (the JSON log may go elsewhere). */
export function warnAtStart(message: string): void {
  process.stderr.write(`syncstorage: warning: ${message}\n`);
}

/**
 * The configuration of every command that reads one: `flags` (the table's
 * options; others are ignored), the `SYNC_…` variables, `--config`. A
 * `SYNC_…` variable no option reads is warned about (a typo must not pass
 * silently), listing each one ignored.
 */
export function commandConfig(flags: Record<string, unknown>): Readonly<ServeConfig> {
  const config = loadServeConfig({ flags, env: process.env, file: configFile(flags, process.env) });
  const ignored = unknownVariables(process.env);
  if (ignored.length > 0) {
    warnAtStart(
      `ignoring unknown variables ${ignored.join(', ')} (serve --help lists the known ones)`,
    );
  }
  return config;
}
