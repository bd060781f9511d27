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
