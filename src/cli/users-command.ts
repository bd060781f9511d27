/**
 * `syncstorage users …`: the token server's users (the `users` table of
 * service sync-1.5). Each subcommand registers itself below; add new ones
 * (delete, quota…) the same way, with `usersConfig(flags)` for the database.
 *
 * A user is named by uid (digits), FxA uid (32 hex digits) or the token
 * server's email `<fxa uid>@<fxa_email_domain>`.
 */
import { Option, type Command } from 'commander';
import type { UserRecord } from '../tokenserver/index.js';
import { isRetiredGeneration } from '../tokenserver/user-rules.js';
import { addTableOptions, commandConfig } from './command-options.js';
import { CliConfigError, type ServeConfig } from './config/load-config.js';
import { withTokenserverStore } from './open-tokenserver.js';

/** The options every users subcommand takes (where the token server database is). */
export const USERS_DB_OPTIONS = ['database', 'dataDir', 'tokenserverDatabase', 'fxaEmailDomain'];

export function usersConfig(flags: Record<string, unknown>): Readonly<ServeConfig> {
  return commandConfig(flags);
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

export function formatUser(user: UserRecord): string {
  const generation = isRetiredGeneration(user.generation) ? 'retired' : String(user.generation);
  return [
    `uid ${user.uid}  ${user.email}`,
    `  node ${user.node ?? `(node ${user.nodeId} is gone)`}`,
    `  generation ${generation}  keys_changed_at ${user.keysChangedAt ?? '-'}  client_state ${user.clientState || '-'}`,
    `  created ${iso(user.createdAt)}  replaced ${iso(user.replacedAt)}`,
  ].join('\n');
}

/** The email of a user given by FxA uid or email. */
export function userEmail(config: Readonly<ServeConfig>, who: string): string {
  if (who.includes('@')) return who;
  if (/^[0-9a-f]{32}$/i.test(who)) {
    return `${who.toLowerCase()}@${config.tokenserver.options.emailDomain ?? 'api.accounts.firefox.com'}`;
  }
  throw new CliConfigError(`invalid user ${who}: expected an FxA uid (32 hex digits) or an email`);
}

function registerList(users: Command): void {
  addTableOptions(
    users
      .command('list')
      .description('print the current users, newest first')
      .addOption(new Option('--all', 'include replaced records'))
      .addOption(
        new Option(
          '--search <start>',
          'only users whose FxA uid or email starts with this (e.g. the first hex digits)',
        ),
      )
      .addOption(new Option('--limit <n>', 'at most this many (default 100)')),
    USERS_DB_OPTIONS,
  ).action(async (flags: Record<string, unknown>) => {
    const { all, limit, search, ...rest } = flags;
    if (limit !== undefined && (typeof limit !== 'string' || !/^\d{1,6}$/.test(limit))) {
      throw new CliConfigError('invalid --limit: expected an integer');
    }
    if (search !== undefined && (typeof search !== 'string' || !/^[\w@.+-]{1,255}$/.test(search))) {
      throw new CliConfigError('invalid --search: expected the start of an FxA uid or email');
    }
    await withTokenserverStore(usersConfig(rest), async (store) => {
      const list = await store.listUsers({
        limit: limit === undefined ? 100 : Number(limit),
        includeReplaced: all === true,
        ...(search !== undefined && { emailPrefix: search.toLowerCase() }),
      });
      process.stdout.write(list.length ? `${list.map(formatUser).join('\n')}\n` : 'no users\n');
    });
  });
}

function registerShow(users: Command): void {
  addTableOptions(
    users
      .command('show <user>')
      .description('print every record of a user (by uid, FxA uid or email)'),
    USERS_DB_OPTIONS,
  ).action(async (who: string, flags: Record<string, unknown>) => {
    const config = usersConfig(flags);
    await withTokenserverStore(config, async (store) => {
      const records = /^\d{1,19}$/.test(who)
        ? [await store.getUserByUid(Number(who))].filter((u): u is UserRecord => u !== undefined)
        : await store.getUsers(userEmail(config, who));
      if (records.length === 0) throw new CliConfigError(`no user ${who}`);
      process.stdout.write(`${records.map(formatUser).join('\n')}\n`);
    });
  });
}

function registerRetire(users: Command): void {
  addTableOptions(
    users
      .command('retire <user>')
      .description(
        'retire a user (FxA uid or email): no token for them again; `purge` deletes their data later',
      ),
    USERS_DB_OPTIONS,
  ).action(async (who: string, flags: Record<string, unknown>) => {
    const config = usersConfig(flags);
    const email = userEmail(config, who);
    await withTokenserverStore(config, async (store) => {
      const changed = await store.retireUser(email);
      if (changed === 0) throw new CliConfigError(`no live user ${email}`);
      process.stdout.write(`retired ${email} (${changed} record${changed === 1 ? '' : 's'})\n`);
    });
  });
}

export function registerUsersCommand(program: Command): Command {
  const users = program
    .command('users')
    .description("the token server's users: list, show, retire");
  registerList(users);
  registerShow(users);
  registerRetire(users);
  return users;
}
