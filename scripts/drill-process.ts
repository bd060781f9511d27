/**
 * The server child process of the fault drills: `syncstorage serve` (the
 * default) or scripts/drill-server.ts (which exposes the memcached client's
 * retry interval and SQLite's synchronous setting), run through tsx. Started,
 * killed with SIGKILL as a crash would, and restarted on the same port. Its
 * pid is the server itself, not a wrapper, so the kill is real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@syncstorage-ts/test-support';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface DrillServer {
  readonly url: string;
  readonly port: number;
  /** SIGKILL and wait for the exit. */
  kill9(): Promise<void>;
  /** Start again (same port, same flags); resolves once it listens. */
  start(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

/** `serve`: the CLI; `script`: scripts/drill-server.ts. */
export type ServerKind = 'serve' | 'script';

/** Resolve once GET /__lbheartbeat__ answers 200. */
async function waitUntilUp(url: string, exited: Promise<never>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(`${url}/__lbheartbeat__`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (up) return;
    if (Date.now() > deadline) throw new Error(`server at ${url} did not come up in 30 s`);
    await Promise.race([sleep(50), exited]);
  }
}

export async function startDrillServer(
  args: string[],
  secret: string,
  kind: ServerKind = 'serve',
): Promise<DrillServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const entry =
    kind === 'serve'
      ? [join(ROOT, 'src/cli/main.ts'), 'serve', '--log-level', 'warn', '--admin-listen', 'off']
      : [join(ROOT, 'scripts/drill-server.ts')];

  async function start(): Promise<void> {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', ...entry, ...args, '--port', String(port)],
      {
        cwd: ROOT,
        env: { ...process.env, SYNC_MASTER_SECRET: secret },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = proc;
    process.once('exit', () => proc.kill('SIGKILL'));
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.stdout?.resume();
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code, sig) =>
        reject(new Error(`server exited (${code ?? sig}): ${stderr.slice(-2000)}`)),
      ),
    );
    exited.catch(() => undefined);
    await waitUntilUp(url, exited);
  }

  async function signal(sig: NodeJS.Signals): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(sig);
    });
  }

  await start();
  return {
    url,
    port,
    kill9: () => signal('SIGKILL'),
    start,
    stop: () => signal('SIGTERM'),
  };
}

/** Seconds with one decimal. */
export const seconds = (ms: number): number => Math.round(ms / 100) / 10;

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
