/**
 * Servers started for tests must not outlive the test process: not when it
 * exits, and not when the test runner kills it (a file that hits its timeout
 * gets SIGTERM, and Node runs no 'exit' hooks on a signal death).
 */
import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

export function killWithTestProcess(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAll);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + (signal === 'SIGTERM' ? 15 : 2));
    });
  }
}

/**
 * Stop a server with `signal` and wait for it to exit; one that has not
 * gone after `graceMs` is killed, so a slow shutdown can never hold a test
 * file open until its timeout.
 */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}
