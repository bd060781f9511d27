/**
 * Starts a real PostgreSQL (Debian's package) for a test suite: `initdb` in a
 * temporary directory, `postgres` on a free loopback port, stopped and
 * removed afterwards. PostgreSQL refuses to run as root, so when we are root
 * it runs as the unprivileged `postgres` user the package creates.
 *
 * Trust authentication by default (no passwords in test URLs). With
 * `{ password }` TCP connections need it (scram-sha-256 in pg_hba.conf, the
 * `postgres` role given that password; local socket connections stay trusted),
 * so a test can see what a wrong password does.
 *
 * Set TEST_DATABASE_URL to use an existing server instead (not with `password`).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  chmodSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killWithTestProcess, stopChild } from './child-cleanup.js';
import { freePort, waitForPort } from './free-port.js';

export interface PostgresServer {
  /** postgres://… URL of a fresh, empty database `syncstorage_test`. */
  readonly url: string;
  /** Create another empty database on the same server and return its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /**
   * The `postgres` role's password; TCP connections (every URL this gives)
   * must then present it, checked with scram-sha-256. Default: trust, no password.
   */
  password?: string;
}

export function postgresBinDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  throw new Error(
    'PostgreSQL is not installed: run `apt-get install postgresql` (or set PG_BIN_DIR)',
  );
}

function asPostgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const external = process.env.TEST_DATABASE_URL;
  if (external && options.password === undefined) {
    return { url: external, createDatabase: async () => external, stop: async () => undefined };
  }
  const bin = postgresBinDir();
  const user = asPostgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'syncstorage-pg-'));
  chmodSync(dir, 0o700);
  if (user) chownSync(dir, user.uid, user.gid);
  const dataDir = join(dir, 'data');
  const spawnOptions = user ? { uid: user.uid, gid: user.gid } : {};

  const auth = ['--auth=trust'];
  if (options.password !== undefined) {
    // initdb writes pg_hba.conf from these and sets the role's password from the file.
    const pwfile = join(dir, 'password');
    writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
    if (user) chownSync(pwfile, user.uid, user.gid);
    auth.splice(0, 1, '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
  }
  execFileSync(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', ...auth, '-E', 'UTF8', '--no-sync', '--locale=C'],
    { stdio: 'ignore', ...spawnOptions },
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], ...spawnOptions },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  killWithTestProcess(child);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`postgres exited (${code}): ${stderr}`))),
  );
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port), exited]);

  const credentials =
    options.password === undefined
      ? 'postgres'
      : `postgres:${encodeURIComponent(options.password)}`;
  const base = `postgres://${credentials}@127.0.0.1:${port}`;
  const createDatabase = async (name: string): Promise<string> => {
    const { default: pg } = await import('pg');
    // The server accepts connections a moment before it accepts queries.
    for (let attempt = 0; ; attempt++) {
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      try {
        await client.connect();
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
        await client.end();
        return `${base}/${name}`;
      } catch (err) {
        await client.end().catch(() => undefined);
        if (attempt > 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const url = await createDatabase('syncstorage_test');

  let stopped = false;
  return {
    url,
    createDatabase,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Fast shutdown (SIGINT), killed after 5 s.
      await stopChild(child, 'SIGINT', 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
