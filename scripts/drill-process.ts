/**
 * The server child process of the fault drills (scripts/drill-server.ts run
 * through tsx): started, killed with SIGKILL as a crash would, and restarted
 * on the same port. Its pid is the server itself, not a wrapper, so the kill
 * is real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/free-port.js';

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

export async function startDrillServer(args: string[], secret: string): Promise<DrillServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts/drill-server.ts'), ...args, '--port', String(port)],
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
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 30_000);
      proc.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`server exited (${code ?? signal}): ${stderr}`));
      });
    });
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
    url: `http://127.0.0.1:${port}`,
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
