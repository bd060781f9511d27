// Start-up failures are one line on stderr naming the cause and the option,
// with a non-zero exit and no stack unless --log-level debug (issue 14).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import {
  freePort,
  startMariadb,
  startMemcached,
  startPostgres,
  waitForPort,
  type PostgresServer,
} from '@syncstorage-ts/test-support';

const MAIN = 'src/cli/main.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  env?: Record<string, string>;
  /** Killed after this long (default 30 s): a start that fails must also exit. */
  timeoutMs?: number;
  /** Run as this uid/gid (root ignores file modes; `nobody` does not). */
  user?: { uid: number; gid: number };
}

function cli(args: string[], options: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, ...options.env, HOME: tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...options.user,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Exits non-zero with exactly one line on stderr, matching each pattern, no stack. */
function assertOneLine(run: Run, ...patterns: RegExp[]): void {
  assert.notEqual(run.code, 0, run.stderr);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^syncstorage: /);
  for (const pattern of patterns) assert.match(lines[0]!, pattern);
}

/** Polls (an output stream has no event for "this text arrived"); gives up after 2.5 s. */
async function until(condition: () => boolean, ms = 2500): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sync-start-'));
  chmodSync(dir, 0o755);
  return dir;
}

const asRoot = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };

describe('start-up failures', () => {
  let postgres: PostgresServer;
  before(async () => {
    // Password authentication, so a wrong password is refused as in production.
    postgres = await startPostgres({ password: 'right-pw' });
  });
  after(() => postgres.stop());

  test('option errors: flag, variable and file key; 0 and -5 say the same; exit 2', async () => {
    const zero = await cli(['serve', '--max-post-records', '0']);
    const negative = await cli(['serve'], {
      env: { SYNC_SYNCSTORAGE__LIMITS__MAX_POST_RECORDS: '-5' },
    });
    for (const run of [zero, negative]) {
      assert.equal(run.code, 2);
      assertOneLine(
        run,
        /--max-post-records \(SYNC_SYNCSTORAGE__LIMITS__MAX_POST_RECORDS, file key syncstorage\.limits\.max_post_records\): expected an integer ≥ 1/,
      );
      assert.doesNotMatch(run.stderr, /maxPostRecords|limits\.max[A-Z]/);
    }
    assert.equal(zero.stderr.replace('"0"', 'N'), negative.stderr.replace('"-5"', 'N'));
    assertOneLine(await cli(['serve', '--log-level', 'loud']), /--log-level.*SYNC_LOG_LEVEL/);
    assertOneLine(await cli(['serve', '--host', 'not a host']), /--host.*SYNC_HOST/);
  });

  test('port in use, and an address this machine does not have', async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    after(() => blocker.close());
    const dir = tempDir();
    const args = ['serve', '--data-dir', join(dir, 'data')];
    assertOneLine(
      await cli([...args, '--port', String(port)]),
      new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`),
      /--port \(SYNC_PORT\)/,
    );
    assertOneLine(
      await cli([...args, '--host', '192.0.2.1']),
      /cannot listen on 192\.0\.2\.1/,
      /--host \(SYNC_HOST\)/,
    );
  });

  test('the database: unreachable, password refused or missing, user refused, database missing, unknown scheme', async () => {
    const url = new URL(postgres.url);
    const dead = `postgres://u:secretpw@127.0.0.1:${await freePort()}/db`;
    const unreachable = await cli(['serve', '--database', dead, '--master-secret', 's']);
    assertOneLine(unreachable, /cannot reach the database .*connection refused/, /--database/);
    assert.doesNotMatch(unreachable.stderr, /secretpw/, 'the password is not shown');
    const wrong = new URL(url);
    wrong.password = 'wrong-pw';
    const refused = await cli(['serve', '--database', wrong.href, '--master-secret', 's']);
    assertOneLine(
      refused,
      /the database at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/syncstorage_test refused the password of user postgres/,
      /--database \(SYNC_SYNCSTORAGE__DATABASE_URL\)/,
    );
    assert.doesNotMatch(refused.stderr, /wrong-pw/, 'the password is not shown');
    const none = new URL(url);
    none.password = '';
    assertOneLine(
      await cli(['serve', '--database', none.href, '--master-secret', 's']),
      /the database at \S+ asks user postgres for a password and the URL gives none/,
      /--database/,
    );
    // A role that may not log in: refused whatever the password (28000, not 28P01).
    const { default: pg } = await import('pg');
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query(`CREATE ROLE no_login PASSWORD 'pw' NOLOGIN`);
    await admin.end();
    const noLogin = new URL(url);
    noLogin.username = 'no_login';
    noLogin.password = 'pw';
    assertOneLine(
      await cli(['serve', '--database', noLogin.href, '--master-secret', 's']),
      /refused user no_login: role "no_login" is not permitted to log in/,
      /SYNC_SYNCSTORAGE__DATABASE_URL/,
    );
    const missing = new URL(url);
    missing.pathname = '/no_such_database';
    assertOneLine(
      await cli(['serve', '--database', missing.href, '--master-secret', 's']),
      /database "no_such_database" does not exist/,
    );
    assertOneLine(await cli(['serve', '--database', 'redis://x']), /--database.*expected sqlite/);
    // A step after the database opened fails (--public-url is checked with the
    // master secret): the database is closed again and the process exits.
    const late = await cli(
      ['serve', '--database', postgres.url, '--master-secret', 's', '--public-url', 'ftp://x'],
      { timeoutMs: 15_000 },
    );
    assert.equal(late.code, 2, 'exited by itself');
    assertOneLine(late, /invalid --public-url \(SYNC_PUBLIC_URL/);
  });

  test('MySQL/MariaDB: password refused, database missing, unreachable', async () => {
    const mariadb = await startMariadb();
    after(() => mariadb.stop());
    const url = new URL(mariadb.url);
    const wrong = new URL(url);
    wrong.password = 'wrong-pw';
    const missing = new URL(url);
    missing.pathname = '/no_such_database';
    const dead = `mysql://u:p@127.0.0.1:${await freePort()}/db`;
    const [refused, absent, unreachable] = await Promise.all(
      [wrong.href, missing.href, dead].map((database) =>
        cli(['serve', '--database', database, '--master-secret', 's']),
      ),
    );
    assertOneLine(
      refused!,
      /the database at mysql:\/\/root:\*\*\*@\S+ refused user root: wrong password/,
      /--database \(SYNC_SYNCSTORAGE__DATABASE_URL\)$/,
    );
    assert.doesNotMatch(refused!.stderr, /wrong-pw/);
    assertOneLine(absent!, /the database "no_such_database" does not exist/, /--database/);
    assertOneLine(unreachable!, /cannot reach the database .*connection refused/, /--database/);
  });

  test('the token server: its database, a bad JWK or FxA URL, a port in use', async () => {
    const url = new URL(postgres.url);
    const wrong = new URL(url);
    wrong.password = 'wrong-pw';
    const missing = new URL(url);
    missing.pathname = '/no_such_database';
    const dead = `postgres://u:p@127.0.0.1:${await freePort()}/db`;
    const TS_DATABASE = /--tokenserver-database \(SYNC_TOKENSERVER__DATABASE_URL\)$/;
    const dir = tempDir();
    const base = ['--data-dir', join(dir, 'data'), '--master-secret', 's'];
    // The storage database, shared by default: blamed on --database.
    assertOneLine(
      await cli(['tokenserver', ...base, '--database', wrong.href]),
      /refused the password of user postgres; check --database \(SYNC_SYNCSTORAGE__DATABASE_URL\)$/,
    );
    // A database of its own: blamed on --tokenserver-database, for tokenserver, serve and nodes.
    assertOneLine(
      await cli(['tokenserver', ...base, '--tokenserver-database', missing.href]),
      /database "no_such_database" does not exist/,
      TS_DATABASE,
    );
    assertOneLine(
      await cli(['serve', ...base, '--tokenserver-database', dead]),
      /cannot reach the database at postgres:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/db: connection refused/,
      TS_DATABASE,
    );
    assertOneLine(
      await cli(['nodes', 'list', ...base.slice(0, 2), '--tokenserver-database', wrong.href]),
      /refused the password/,
      TS_DATABASE,
    );
    const jwk = await cli(['tokenserver', ...base, '--fxa-oauth-primary-jwk', '{"kty":"EC"}']);
    assert.equal(jwk.code, 2);
    assertOneLine(
      jwk,
      /invalid --fxa-oauth-primary-jwk \(SYNC_TOKENSERVER__FXA_OAUTH_PRIMARY_JWK, file key tokenserver\.fxa_oauth_primary_jwk\): expected an RSA public JWK/,
    );
    const fxa = await cli(['serve', ...base, '--fxa-oauth-server-url', 'ftp://fxa.example']);
    assert.equal(fxa.code, 2);
    assertOneLine(
      fxa,
      /invalid --fxa-oauth-server-url \(SYNC_TOKENSERVER__FXA_OAUTH_SERVER_URL, file key tokenserver\.fxa_oauth_server_url\): expected an http\(s\) URL, got "ftp:\/\/fxa\.example"/,
    );
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    after(() => blocker.close());
    assertOneLine(
      await cli(['tokenserver', ...base, '--port', String(port)]),
      new RegExp(
        `port ${port} on 127\\.0\\.0\\.1 is already in use; check --port \\(SYNC_PORT\\)$`,
      ),
    );
  });

  test(
    'a data folder that cannot be written; a read-only SQLite file',
    { skip: !asRoot },
    async () => {
      const dir = tempDir();
      assertOneLine(
        await cli(['serve', '--data-dir', join(dir, 'data')], { user: NOBODY }),
        /cannot write to the folder .*data: EACCES/,
        /--data-dir \(SYNC_DATA_DIR\)/,
      );
      const open = tempDir();
      chmodSync(open, 0o777);
      const file = join(open, 'sync.db');
      await (await openSqlStorage({ url: `sqlite:${file}` })).close();
      assert.ok(existsSync(file));
      chmodSync(file, 0o644);
      assertOneLine(
        await cli(['serve', '--database', `sqlite:${file}`, '--master-secret', 's'], {
          user: NOBODY,
        }),
        /the SQLite file .*sync\.db is read-only/,
        /--database/,
      );
    },
  );

  test('token and purge in the wrong folder create nothing and say where they looked', async () => {
    const dir = tempDir();
    const wrong = join(dir, 'elsewhere');
    assertOneLine(
      await cli(['token', '--uid', '1', '--data-dir', wrong]),
      /no master secret in .*elsewhere\/master-secret/,
      /--data-dir/,
    );
    assertOneLine(
      await cli(['purge', '--data-dir', wrong]),
      /no database at .*elsewhere\/syncstorage\.db \(looked in the data folder .*elsewhere\)/,
    );
    assert.deepEqual(readdirSync(dir), [], 'no folder, secret or database created');
  });

  test('a data folder where the admin token cannot be read names the file and --data-dir', async () => {
    const adminPort = await freePort();
    const serve = [...['serve', '--database', 'sqlite::memory:', '--master-secret', 's']];
    assertOneLine(
      await cli([
        ...serve,
        ...['--data-dir', '/dev/null/x', '--admin-listen', `127.0.0.1:${adminPort}`],
      ]),
      /cannot read \/dev\/null\/x\/admin-token: ENOTDIR/,
      /--data-dir \(SYNC_DATA_DIR\)$/,
    );
  });

  test('--log-level debug adds the stack', async () => {
    const run = await cli(['serve', '--database', 'sqlite:/dev/null/x.db', '--log-level', 'debug']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /^syncstorage: cannot write to the folder \/dev\/null/);
    assert.match(run.stderr, /\n\s+at /, 'a stack');
  });

  test('every command that reads the configuration warns about unknown SYNC_ variables', async () => {
    const dir = tempDir();
    const data = ['--data-dir', join(dir, 'data')];
    const env = { SYNC_DATABSE_URL: 'typo' };
    const commands = [
      ['tokenserver', '--data-dir', '/dev/null/x'],
      ['token', '--uid', '1', '--master-secret', 's'],
      ['purge', ...data],
      ['nodes', 'list', ...data],
      ['users', 'list', ...data],
      ['usage', ...data],
      ['backup', '--to', join(dir, 'copy.db'), ...data],
      ['import', '--from', `sqlite:${join(dir, 'none.db')}`, '--dry-run', ...data],
    ];
    const runs = await Promise.all(commands.map((args) => cli(args, { env })));
    runs.forEach((run, i) =>
      assert.match(
        run.stderr,
        /^syncstorage: warning: ignoring unknown variables SYNC_DATABSE_URL \(/,
        commands[i]!.join(' '),
      ),
    );
  });

  test('memcached refusing and unknown variables are warnings; the hint names the port; data 0700', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const port = await freePort();
    // Two servers, one answering: the warning names the one that does not.
    const memcached = await startMemcached();
    after(() => memcached.stop());
    const liveMemcached = memcached.address;
    const deadMemcached = `127.0.0.1:${await freePort()}`;
    const servers = `${liveMemcached},${deadMemcached}`;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'serve',
        ...['--port', String(port), '--data-dir', dataDir, '--memcached', servers],
        ...['--admin-listen', 'off'],
      ],
      { env: { ...process.env, SYNC_PROT: '9000', SYNC_LOGLEVEL: 'x' }, stdio: 'pipe' },
    );
    after(() => child.kill('SIGKILL'));
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitForPort(port, '127.0.0.1', 20_000);
    await until(() => stderr.includes('token --uid 1'));
    assert.match(stderr, /warning: ignoring unknown variables SYNC_LOGLEVEL, SYNC_PROT/);
    assert.match(
      stderr,
      new RegExp(
        `warning: memcached ${deadMemcached} \\(of ${liveMemcached}, ${deadMemcached}\\) does not answer`,
      ),
    );
    assert.match(stderr, new RegExp(`token --uid 1 --data-dir \\S+ --port ${port}\\n`));
    assert.equal((await fetch(`http://127.0.0.1:${port}/__heartbeat__`)).status, 200);
    // The buffered log is flushed on a timer: the line shows within a second or so.
    await until(() => stdout.includes('"route":"/__heartbeat__"'));
    const line = stdout.split('\n').find((l) => l.includes('"route":"/__heartbeat__"'));
    assert.ok(line, 'the request line is out while the server idles');
    assert.equal((JSON.parse(line) as { client: string }).client, '127.0.0.1');
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  });
});
