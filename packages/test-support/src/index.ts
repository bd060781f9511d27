/** Real servers for tests (memcached, PostgreSQL, MariaDB, nginx, Caddy) on free loopback ports, and the helpers around them. */
export { killWithTestProcess } from './child-cleanup.js';
export { freePort, waitForPort } from './free-port.js';
export { fuzzRuns } from './fuzz-runs.js';
export { memcachedBinary, startMemcached } from './memcached-server.js';
export type { MemcachedOptions, MemcachedServer } from './memcached-server.js';
export { postgresBinDir, startPostgres } from './postgres-server.js';
export type { PostgresOptions, PostgresServer } from './postgres-server.js';
export { nginxBinary, startNginx } from './nginx-server.js';
export type { NginxServer } from './nginx-server.js';
export { caddyBinary, startCaddy } from './caddy-server.js';
export type { CaddyServer } from './caddy-server.js';
export { startTcpProxy } from './tcp-proxy.js';
export type { TcpProxy } from './tcp-proxy.js';
export { mariadbBinaries, startMariadb } from './mariadb-server.js';
export type { MariadbServer } from './mariadb-server.js';
