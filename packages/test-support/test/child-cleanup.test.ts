import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

const worker = fileURLToPath(new URL('./child-cleanup-worker.ts', import.meta.url));

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// A test file killed at its timeout (SIGTERM) must not leave its servers behind.
test('a test process killed with SIGTERM takes its memcached with it', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', worker], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
  assert.equal(await listening(port), true);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  let up = true;
  for (let i = 0; i < 50 && up; i++) {
    up = await listening(port);
    if (up) await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(up, false, 'memcached still listening after its test process was killed');
});
