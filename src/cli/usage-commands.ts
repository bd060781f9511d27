/**
 * The operator's storage commands: `syncstorage users delete|quota` (added
 * to the token server's `users`) and `syncstorage usage` (top users by size,
 * totals). They work on the database directly, or through a running
 * server's admin listener with `--admin-url` (the same JSON endpoints as the
 * admin page; token from --admin-token, SYNC_ADMIN_TOKEN or
 * <data-dir>/admin-token). `--json` prints machine-readable output.
 * Destructive commands ask first, or take `--yes`.
 */
import { createInterface } from 'node:readline/promises';
import { Option, type Command } from 'commander';
import type { UsageTotals, UserUsage } from '../storage/storage-directory.js';
import { addTableOptions } from './command-options.js';
import { loadSecretFile } from './config/secret-file.js';
import { CliConfigError, type ServeConfig } from './config/load-config.js';
import { openDatabase } from './open-storage.js';
import { usersConfig } from './users-command.js';

const DB_OPTIONS = ['database', 'dataDir', 'adminToken'];

/** What the commands need, from the database or from the admin listener. */
interface UsageSource {
  listUsers(limit: number): Promise<UserUsage[]>;
  totals(): Promise<UsageTotals>;
  deleteData(uid: number): Promise<number>;
  setQuota(uid: number, bytes: number | null): Promise<void>;
  close(): Promise<void>;
}

async function openSource(config: Readonly<ServeConfig>, adminUrl: unknown): Promise<UsageSource> {
  if (typeof adminUrl === 'string') {
    const token = config.adminToken ?? loadSecretFile(config.dataDir, 'admin-token')?.secret;
    if (!token) {
      throw new CliConfigError(
        `--admin-url needs the admin token: --admin-token, SYNC_ADMIN_TOKEN or ${config.dataDir}/admin-token`,
      );
    }
    const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
      let response: Response;
      try {
        response = await fetch(new URL(path, adminUrl), {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        throw new CliConfigError(
          `cannot reach --admin-url ${adminUrl}: ${(error as Error).message}`,
        );
      }
      const data = (await response.json().catch(() => ({}))) as { message?: string };
      if (!response.ok) {
        throw new CliConfigError(
          `${method} ${path}: ${response.status} ${data.message ?? ''}`.trim() +
            (response.status === 401 ? ' (wrong admin token?)' : ''),
        );
      }
      return data;
    };
    return {
      listUsers: async (limit) =>
        ((await call('GET', `/api/users?limit=${limit}`)) as { users: UserUsage[] }).users,
      totals: async () => ((await call('GET', '/api/overview')) as { totals: UsageTotals }).totals,
      deleteData: async (uid) =>
        ((await call('DELETE', `/api/users/${uid}/data`)) as { bytes: number }).bytes,
      setQuota: async (uid, bytes) => {
        await call('PUT', `/api/users/${uid}/quota`, { bytes });
      },
      close: async () => undefined,
    };
  }
  const database = await openDatabase(config.database, { dataDir: config.dataDir });
  return {
    listUsers: (limit) => database.listUsers({ limit }),
    totals: () => database.usageTotals(),
    deleteData: async (uid) => {
      const bytes = await database.getTotalSize(uid, true);
      await database.deleteStorage(uid);
      return bytes;
    },
    setQuota: (uid, bytes) => database.setUserQuota(uid, bytes),
    close: () => database.close(),
  };
}

function uidArg(raw: string): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) <= 0) {
    throw new CliConfigError(`invalid uid ${JSON.stringify(raw)}: expected a positive integer`);
  }
  return Number(raw);
}

function sizeArg(raw: string): number | null {
  if (raw === 'none') return null;
  const match = /^(\d+(?:\.\d+)?)\s*(|b|kb|k|mb|m|gb|g)$/i.exec(raw.trim());
  if (!match) {
    throw new CliConfigError(
      `invalid quota ${JSON.stringify(raw)}: expected bytes, 500MB, 2GB or none`,
    );
  }
  const unit = {
    '': 1,
    b: 1,
    k: 1024,
    kb: 1024,
    m: 1024 ** 2,
    mb: 1024 ** 2,
    g: 1024 ** 3,
    gb: 1024 ** 3,
  }[match[2]!.toLowerCase() as '' | 'b'];
  return Math.round(Number(match[1]) * unit);
}

const human = (n: number): string => {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
};

async function confirm(question: string, yes: unknown): Promise<void> {
  if (yes === true) return;
  if (!process.stdin.isTTY) throw new CliConfigError(`${question} Refused: pass --yes to confirm.`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new CliConfigError('cancelled');
}

const withSource = (
  action: (source: UsageSource, args: string[], flags: Record<string, unknown>) => Promise<void>,
) =>
  async function (this: Command, ...args: unknown[]): Promise<void> {
    const flags = args.at(-2) as Record<string, unknown>;
    const positional = args.slice(0, -2) as string[];
    const { adminUrl, json: _json, yes: _yes, limit: _limit, ...rest } = flags;
    const source = await openSource(usersConfig(rest), adminUrl);
    try {
      await action(source, positional, flags);
    } finally {
      await source.close();
    }
  };

function common(command: Command): Command {
  return addTableOptions(
    command
      .addOption(
        new Option(
          '--admin-url <url>',
          "a running server's admin listener, e.g. http://127.0.0.1:8001",
        ),
      )
      .addOption(new Option('--json', 'print JSON')),
    DB_OPTIONS,
  );
}

export function registerStorageUserCommands(users: Command): void {
  common(
    users
      .command('delete <uid>')
      .description(
        'delete everything a user stores (their devices upload again at their next sync)',
      )
      .addOption(new Option('--yes', 'do not ask for confirmation')),
  ).action(
    withSource(async (source, [uid], flags) => {
      const id = uidArg(uid!);
      await confirm(`Delete all data of user ${id}?`, flags.yes);
      const bytes = await source.deleteData(id);
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ userId: id, deleted: true, bytes })}\n`
          : `deleted user ${id}'s data (${human(bytes)})\n`,
      );
    }),
  );
  common(
    users
      .command('quota <uid> <size>')
      .description("set a user's own quota (bytes, 500MB, 2GB) or none for the global one"),
  ).action(
    withSource(async (source, [uid, size], flags) => {
      const id = uidArg(uid!);
      const bytes = sizeArg(size!);
      await source.setQuota(id, bytes);
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ userId: id, quotaBytes: bytes })}\n`
          : `user ${id}: quota ${bytes === null ? 'the global one' : human(bytes)}\n`,
      );
    }),
  );
}

export function registerUsageCommand(program: Command): void {
  common(
    program
      .command('usage')
      .description('users storing the most, and totals (from the running totals: no full scan)')
      .addOption(new Option('--limit <n>', 'top this many users (default 20)')),
  ).action(
    withSource(async (source, _args, flags) => {
      const limit = flags.limit === undefined ? 20 : Number(flags.limit);
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
        throw new CliConfigError('invalid --limit: expected 1..1000');
      }
      const [totals, users] = await Promise.all([source.totals(), source.listUsers(limit)]);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ totals, users })}\n`);
        return;
      }
      process.stdout.write(
        `${totals.users} users, ${totals.items} items, ${human(totals.bytes)}\n` +
          users
            .map(
              (u) =>
                `  uid ${u.userId}  ${human(u.bytes)}  ${u.items} items  ${u.collections} collections  quota ${u.quotaBytes === null ? '-' : human(u.quotaBytes)}`,
            )
            .join('\n') +
          (users.length ? '\n' : ''),
      );
    }),
  );
}
