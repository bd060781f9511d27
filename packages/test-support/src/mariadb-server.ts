/**
 * Starts a real MariaDB (Debian's `mariadb-server`) for a test suite:
 * `mariadb-install-db` into a temporary directory, `mariadbd` on a free
 * loopback port with its socket in that directory, stopped and removed
 * afterwards, and killed with the test process if it dies first. mariadbd
 * refuses to run as root without `--user`, so as root it runs as the
 * unprivileged `mysql` user the package creates (as startPostgres does).
 *
 * Durability is traded for speed (no binlog, redo log flushed once a second):
 * a test server holds nothing worth keeping.
 *
 * Set TEST_MYSQL_URL to use an existing server instead (its user must be
 * allowed to CREATE DATABASE).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killWithTestProcess, stopChild } from './child-cleanup.js';
import { freePort, waitForPort } from './free-port.js';

export interface MariadbServer {
  /** mysql://… URL of a fresh, empty database `syncstorage_test`. */
  readonly url: string;
  /** Create another empty database on the same server and return its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

function binary(candidates: readonly string[]): string {
  for (const path of candidates) if (existsSync(path)) return path;
  throw new Error('MariaDB is not installed: run `apt-get install mariadb-server`');
}

export function mariadbBinaries(): { installDb: string; server: string } {
  return {
    installDb: binary(['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db']),
    server: binary(['/usr/sbin/mariadbd', '/usr/sbin/mysqld']),
  };
}

function asMysqlUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'mysql']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'mysql']).toString().trim());
  return { uid, gid };
}

/** A database name safe to interpolate (test code picks them; this keeps it honest). */
function checkName(name: string): string {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`bad database name ${name}`);
  return name;
}

export async function startMariadb(): Promise<MariadbServer> {
  const { createConnection } = await import('mysql2/promise');
  const external = process.env.TEST_MYSQL_URL;
  const makeCreateDatabase =
    (base: string) =>
    async (name: string): Promise<string> => {
      // The server accepts connections a moment before it accepts logins.
      for (let attempt = 0; ; attempt++) {
        try {
          const connection = await createConnection({ uri: `${base}/` });
          try {
            await connection.query(
              `CREATE DATABASE IF NOT EXISTS \`${checkName(name)}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
            );
          } finally {
            await connection.end();
          }
          return `${base}/${name}`;
        } catch (err) {
          if (attempt > 50) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
  if (external) {
    const base = external.replace(/\/[^/]*$/, '');
    const createDatabase = makeCreateDatabase(base);
    return {
      url: await createDatabase('syncstorage_test'),
      createDatabase,
      stop: async () => undefined,
    };
  }

  const { installDb, server } = mariadbBinaries();
  const user = asMysqlUser();
  const dir = mkdtempSync(join(tmpdir(), 'syncstorage-mariadb-'));
  chmodSync(dir, 0o700);
  if (user) chownSync(dir, user.uid, user.gid);
  const dataDir = join(dir, 'data');
  const spawnOptions = user ? { uid: user.uid, gid: user.gid } : {};

  execFileSync(
    installDb,
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      // root without a password, reached over TCP from 127.0.0.1.
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
    ],
    { stdio: 'ignore', ...spawnOptions },
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    server,
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--tmpdir=${dir}`,
      `--socket=${join(dir, 'mariadb.sock')}`,
      `--pid-file=${join(dir, 'mariadb.pid')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--skip-log-bin',
      '--innodb-flush-log-at-trx-commit=0',
      '--innodb-doublewrite=0',
      '--innodb-buffer-pool-size=64M',
      '--performance-schema=OFF',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_bin',
      '--max-connections=200',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], ...spawnOptions },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Keep the tail only: MariaDB is chatty at start.
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  killWithTestProcess(child);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`mariadbd exited (${code}): ${stderr}`))),
  );
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port), exited]);

  const createDatabase = makeCreateDatabase(`mysql://root@127.0.0.1:${port}`);
  const url = await Promise.race([createDatabase('syncstorage_test'), exited]);

  let stopped = false;
  return {
    url,
    createDatabase,
    async stop() {
      if (stopped) return;
      stopped = true;
      // A test server's data is thrown away: SIGKILL after a short grace.
      await stopChild(child, 'SIGTERM', 3000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
