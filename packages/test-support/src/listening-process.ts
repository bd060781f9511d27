/**
 * A server process a test starts in a temporary folder of its own (nginx,
 * Caddy): spawned, killed with the test process if that dies first, ready
 * once its port accepts connections (or failed with its stderr if it exits
 * first), and stopped with SIGTERM, its folder removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { killWithTestProcess } from './child-cleanup.js';
import { waitForPort } from './free-port.js';

/** A proxy or other server a test started on a loopback port. */
export interface ListeningServer {
  readonly port: number;
  /** "http://127.0.0.1:port" */
  readonly origin: string;
  stop(): Promise<void>;
}

export interface ListeningProcessOptions {
  /** Named in the error when the process exits at start. */
  name: string;
  binary: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** The loopback port it is ready on. */
  port: number;
  /** Its temporary folder, removed when it stops (or fails to start). */
  folder: string;
}

/** Resolves once listening. */
export async function startListeningProcess(
  options: ListeningProcessOptions,
): Promise<ListeningServer> {
  const child: ChildProcess = spawn(options.binary, [...options.args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: options.env ?? process.env,
  });
  killWithTestProcess(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForPort(options.port, '127.0.0.1', 10_000),
      exited.then(() => {
        throw new Error(`${options.name} exited at start: ${stderr}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(options.folder, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  return {
    port: options.port,
    origin: `http://127.0.0.1:${options.port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(options.folder, { recursive: true, force: true });
    },
  };
}
