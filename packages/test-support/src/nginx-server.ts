/**
 * Starts a real nginx (Debian's nginx-light) on a free loopback port with a
 * configuration of the test's own, in a temporary prefix (its pid, logs and
 * temp folders live there), and stops it afterwards.
 *
 *   const nginx = await startNginx((port) => `server { listen 127.0.0.1:${port}; … }`);
 *   after(() => nginx.stop());
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { startListeningProcess, type ListeningServer } from './listening-process.js';

export type NginxServer = ListeningServer;

export function nginxBinary(): string {
  for (const candidate of [process.env.NGINX_BIN, '/usr/sbin/nginx']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  throw new Error('nginx is not installed: run `apt-get install nginx-light` (or set NGINX_BIN)');
}

/** `servers(port)` returns the `http { … }` block's contents: one or more `server` blocks. */
export async function startNginx(servers: (port: number) => string): Promise<NginxServer> {
  const binary = nginxBinary();
  const port = await freePort();
  const prefix = mkdtempSync(join(tmpdir(), 'syncstorage-nginx-'));
  const conf = join(prefix, 'nginx.conf');
  const temp = (name: string) => join(prefix, name);
  writeFileSync(
    conf,
    [
      'worker_processes 1;',
      `pid ${temp('nginx.pid')};`,
      `error_log ${temp('error.log')} warn;`,
      // As root the workers would switch to nobody and could not read the prefix.
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${temp('body')};`,
      `  proxy_temp_path ${temp('proxy')};`,
      `  fastcgi_temp_path ${temp('fastcgi')};`,
      `  uwsgi_temp_path ${temp('uwsgi')};`,
      `  scgi_temp_path ${temp('scgi')};`,
      servers(port),
      '}',
      '',
    ].join('\n'),
  );
  return startListeningProcess({
    name: 'nginx',
    binary,
    args: ['-p', prefix, '-c', conf, '-e', temp('error.log'), '-g', 'daemon off;'],
    port,
    folder: prefix,
  });
}
