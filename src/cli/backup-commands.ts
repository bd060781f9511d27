/**
 * `syncstorage backup --to FILE` and `syncstorage restore --from FILE`, for
 * the SQLite database: SQLite's online backup (better-sqlite3's `backup`),
 * a consistent copy of a running database taken page by page with progress,
 * then opened and checked (`PRAGMA integrity_check`). Restore copies a
 * checked backup into a data folder that has no database yet. PostgreSQL and
 * MySQL have their own tools (docs/self-hosting.md, "Backups").
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { Option, type Command } from 'commander';
import { sqlitePathOf } from '../storage/sql/index.js';
import { addTableOptions } from './command-options.js';
import { CliConfigError, type ServeConfig } from './config/load-config.js';
import { usersConfig } from './users-command.js';

function sqlitePath(config: Readonly<ServeConfig>): string {
  if (!config.database.startsWith('sqlite:')) {
    throw new CliConfigError(
      'backup and restore work on SQLite; for PostgreSQL use pg_dump / pg_restore, for MySQL mysqldump (docs/self-hosting.md)',
    );
  }
  const path = sqlitePathOf(config.database);
  if (path === ':memory:') throw new CliConfigError('an in-memory database has nothing to back up');
  return path;
}

/** Open `path` and check it; returns its item count. Throws a one-line error when damaged. */
function checkCopy(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok')
      throw new CliConfigError(`${path} failed its integrity check: ${String(result)}`);
    const row = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'bso'")
      .get();
    if (!row) throw new CliConfigError(`${path} is not a syncstorage database (no bso table)`);
    return Number((db.prepare('SELECT COUNT(*) AS n FROM bso').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

export async function backupSqlite(
  source: string,
  target: string,
  progress: (done: number, total: number) => void = () => undefined,
): Promise<number> {
  if (!existsSync(source)) throw new CliConfigError(`no database at ${source}`);
  if (existsSync(target)) throw new CliConfigError(`${target} exists; choose a new file`);
  mkdirSync(dirname(target), { recursive: true });
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // Steps of 256 pages let writers in between; but a write by another
    // connection restarts the copy, so once that happens the rest goes in
    // one step (one consistent snapshot under WAL), or a busy server would
    // keep the backup from ever finishing.
    let lastRemaining = Infinity;
    let restarted = false;
    await db.backup(target, {
      progress: ({ totalPages, remainingPages }) => {
        if (remainingPages > lastRemaining) restarted = true;
        lastRemaining = remainingPages;
        progress(totalPages - remainingPages, totalPages);
        return restarted ? Math.max(totalPages, 1) : 256;
      },
    });
  } finally {
    db.close();
  }
  return checkCopy(target);
}

export function registerBackupCommands(program: Command): void {
  addTableOptions(
    program
      .command('backup')
      .description(
        'copy the running SQLite database consistently (online backup), then check the copy',
      )
      .addOption(new Option('--to <file>', 'the new backup file').makeOptionMandatory()),
    ['database', 'dataDir'],
  ).action(async (flags: Record<string, unknown>) => {
    const { to, ...rest } = flags;
    const source = sqlitePath(usersConfig(rest));
    let last = -1;
    const items = await backupSqlite(source, String(to), (done, total) => {
      const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
      if (percent !== last)
        process.stderr.write(`\rbacked up ${done}/${total} pages (${percent} %)`);
      last = percent;
    });
    process.stderr.write('\n');
    process.stdout.write(
      `backup ${String(to)} checked: ${items} items. Keep master-secret and admin-token with it.\n`,
    );
  });

  addTableOptions(
    program
      .command('restore')
      .description('put a backup in place as the database of an empty data folder (server stopped)')
      .addOption(
        new Option('--from <file>', 'a file made by syncstorage backup').makeOptionMandatory(),
      ),
    ['database', 'dataDir'],
  ).action(async (flags: Record<string, unknown>) => {
    const { from, ...rest } = flags;
    const target = sqlitePath(usersConfig(rest));
    const source = String(from);
    if (!existsSync(source)) throw new CliConfigError(`no backup at ${source}`);
    for (const path of [target, `${target}-wal`]) {
      if (existsSync(path)) {
        throw new CliConfigError(
          `${path} exists: restore goes into a data folder without a database`,
        );
      }
    }
    const items = checkCopy(source);
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    copyFileSync(source, target);
    process.stdout.write(
      `restored ${items} items into ${target}. Put the master-secret (and admin-token) back in ${join(dirname(target))} too.\n`,
    );
  });
}
