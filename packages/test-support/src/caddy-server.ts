/**
 * Starts a real Caddy (Debian's `caddy`) on a free loopback port with a
 * Caddyfile of the test's own, in a temporary folder (its storage and
 * XDG folders live there), and stops it afterwards. The global options
 * turn off what a test must not touch: the admin endpoint (port 2019) and
 * automatic HTTPS (certificates, the :80 redirect).
 *
 *   const caddy = await startCaddy((port) => `http://127.0.0.1:${port} { … }`);
 *   after(() => caddy.stop());
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { startListeningProcess, type ListeningServer } from './listening-process.js';

export type CaddyServer = ListeningServer;

export function caddyBinary(): string {
  for (const candidate of [process.env.CADDY_BIN, '/usr/bin/caddy']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  throw new Error('Caddy is not installed: run `apt-get install caddy` (or set CADDY_BIN)');
}

/** `sites(port)` returns the Caddyfile's site blocks (after the global options). */
export async function startCaddy(sites: (port: number) => string): Promise<CaddyServer> {
  const binary = caddyBinary();
  const port = await freePort();
  const prefix = mkdtempSync(join(tmpdir(), 'syncstorage-caddy-'));
  const caddyfile = join(prefix, 'Caddyfile');
  writeFileSync(
    caddyfile,
    [
      '{',
      '\tadmin off',
      '\tauto_https off',
      `\tstorage file_system ${join(prefix, 'storage')}`,
      '}',
      sites(port),
      '',
    ].join('\n'),
  );
  return startListeningProcess({
    name: 'caddy',
    binary,
    args: ['run', '--config', caddyfile, '--adapter', 'caddyfile'],
    env: {
      ...process.env,
      HOME: prefix,
      XDG_DATA_HOME: join(prefix, 'data'),
      XDG_CONFIG_HOME: join(prefix, 'config'),
    },
    port,
    folder: prefix,
  });
}
