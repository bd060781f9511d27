/**
 * Starts a real memcached (Debian's package) on a free loopback port for a
 * test suite, and stops it afterwards. No test talks to a fake memcached.
 *
 *   const mc = await startMemcached();
 *   after(() => mc.stop());
 *   new MemcachedClient({ servers: [mc.address] })
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { killWithTestProcess } from './child-cleanup.js';
import { freePort, waitForPort } from './free-port.js';

export interface MemcachedOptions {
  port?: number;
  /** Memory limit in MB (-m). Default 64. */
  memoryMb?: number;
  /** Extra command-line arguments (e.g. TLS `-Z -o ssl_chain_cert=…`, SASL/auth `-Y file`). */
  args?: string[];
  /** Max item size (-I), e.g. "1m". */
  maxItemSize?: string;
}

export interface MemcachedServer {
  readonly host: string;
  readonly port: number;
  /** "127.0.0.1:port" */
  readonly address: string;
  /** SIGKILL, as a crash would. The port stays reserved for `start()`. */
  kill(): Promise<void>;
  /** Start again on the same port (after `kill` or `stop`). */
  start(): Promise<void>;
  /** SIGTERM and wait. Safe to call twice. */
  stop(): Promise<void>;
}

export function memcachedBinary(): string {
  for (const candidate of [
    process.env.MEMCACHED_BIN,
    '/usr/bin/memcached',
    '/usr/local/bin/memcached',
  ]) {
    if (candidate) {
      try {
        execFileSync(candidate, ['-V'], { stdio: 'ignore' });
        return candidate;
      } catch {
        // try the next
      }
    }
  }
  throw new Error(
    'memcached is not installed: run `apt-get install memcached` (or set MEMCACHED_BIN)',
  );
}

export async function startMemcached(options: MemcachedOptions = {}): Promise<MemcachedServer> {
  const binary = memcachedBinary();
  const port = options.port ?? (await freePort());
  const host = '127.0.0.1';
  let child: ChildProcess | undefined;

  const args = [
    '-l',
    host,
    '-p',
    String(port),
    '-U',
    '0',
    '-m',
    String(options.memoryMb ?? 64),
    '-c',
    '1024',
    ...(options.maxItemSize ? ['-I', options.maxItemSize] : []),
    ...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []),
    ...(options.args ?? []),
  ];

  async function start(): Promise<void> {
    child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    killWithTestProcess(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<never>((_, reject) =>
      child?.once('exit', (code) => reject(new Error(`memcached exited (${code}): ${stderr}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port, host), exited]);
  }

  async function signal(sig: NodeJS.Signals): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      proc.kill(sig);
    });
  }

  await start();
  return {
    host,
    port,
    address: `${host}:${port}`,
    kill: () => signal('SIGKILL'),
    start,
    stop: () => signal('SIGTERM'),
  };
}
