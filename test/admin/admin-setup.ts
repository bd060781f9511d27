/**
 * The operator's side over a real backend, as `serve` wires it: metrics
 * observing the SQL driver, the cache store and the public app; the admin
 * app (through `inject`) beside the public one; with `fxa`, the token
 * server on the same driver (against that fake FxA), observed too, and the
 * admin's nodes and users over its store. Backends as the server
 * tests': SERVER_BACKENDS=sqlite,postgres,mariadb,cached (default all).
 */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { MemcachedClient } from '@syncstorage-ts/memcache';
import {
  startMariadb,
  startMemcached,
  startPostgres,
  type MariadbServer,
  type MemcachedServer,
  type PostgresServer,
} from '@syncstorage-ts/test-support';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import { cacheKeyKind } from '../../src/admin/metrics/cache-key-kind.js';
import { ObservedCacheStore } from '../../src/admin/metrics/observed-cache-store.js';
import { RecentHistory } from '../../src/admin/metrics/recent-history.js';
import { ServerMetrics } from '../../src/admin/metrics/server-metrics.js';
import { PurgeScheduler } from '../../src/admin/purge-scheduler.js';
import { tokenServerAdmin } from '../../src/admin/token-server-store-admin.js';
import { buildApp } from '../../src/server/app.js';
import { observeSqlDriver } from '../../src/sql/observed-sql-driver.js';
import { openSqlDriver } from '../../src/sql/open-sql-driver.js';
import type { SqlValue } from '../../src/sql/sql-types.js';
import { sideSql } from '../support/side-sql.js';
import { createTokenserver, type Tokenserver } from '../../src/tokenserver/index.js';
import type { FakeFxa } from '../tokenserver/support/fake-fxa.js';
import { createCachedStorage } from '../../src/storage/cached/index.js';
import { openSqlStorage, type SqlStorage } from '../../src/storage/sql/index.js';
import type { SyncStorage } from '../../src/storage/sync-storage.js';
import { injectTransport, SyncClient } from '../support/sync-client.js';

export type Backend = 'sqlite' | 'postgres' | 'mariadb' | 'cached';
const ALL: readonly string[] = ['sqlite', 'postgres', 'mariadb', 'cached'];
export const BACKENDS: Backend[] = (process.env.SERVER_BACKENDS ?? ALL.join(','))
  .split(',')
  .map((name) => name.trim())
  .filter((name): name is Backend => ALL.includes(name));

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
const MASTER_SECRET = 'test master secret, not for production';
/** The node the token server assigns (capacity 100). */
export const NODE = 'http://node.example.test';

let postgres: Promise<PostgresServer> | undefined;
let mariadb: Promise<MariadbServer> | undefined;
let memcached: Promise<MemcachedServer> | undefined;
const dir = mkdtempSync(join(tmpdir(), 'syncstorage-admin-'));
let n = 0;
after(async () => {
  await (await postgres)?.stop();
  await (await mariadb)?.stop();
  await (await memcached)?.stop();
  rmSync(dir, { recursive: true, force: true });
});

export interface Operator {
  admin: FastifyInstance;
  app: FastifyInstance;
  storage: SyncStorage;
  database: SqlStorage;
  metrics: ServerMetrics;
  /** With `fxa`: the token server mounted on `app`. */
  tokenserver?: Tokenserver;
  /** SQL on a connection of its own (autocommit): the database as another tool sees it. */
  sql(text: string, params?: SqlValue[]): Promise<Array<Record<string, unknown>>>;
  client(uid: number): SyncClient;
  /** An admin request with the token (or the headers given). */
  call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{
    status: number;
    json: () => unknown;
    body: string;
    headers: Record<string, unknown>;
  }>;
  close(): Promise<void>;
}

export async function openOperator(
  backend: Backend,
  quotaBytes: number | null = null,
  options: { fxa?: FakeFxa } = {},
): Promise<Operator> {
  const opened: { database?: SqlStorage } = {};
  const metrics = new ServerMetrics({
    totals: () => opened.database!.usageTotals(),
    processMetrics: false,
  });
  let url: string;
  if (backend === 'postgres' || backend === 'mariadb') {
    const server = await (backend === 'mariadb'
      ? (mariadb ??= startMariadb())
      : (postgres ??= startPostgres()));
    url = await server.createDatabase(`admin_${process.pid}_${++n}`);
  } else {
    url = `sqlite:${join(dir, `admin${++n}.db`)}`;
  }
  const driver = observeSqlDriver(await openSqlDriver({ url }), metrics);
  const database = await openSqlStorage({ url, driver });
  const tokenserver =
    options.fxa &&
    (await createTokenserver({
      driver,
      config: {
        masterSecret: MASTER_SECRET,
        oauthServerUrl: options.fxa.url,
        jwks: [options.fxa.publicJwk],
        oauthRequestTimeoutMs: 1000,
      },
      observer: metrics,
    }));
  await tokenserver?.store.ensureNode(NODE, 100, false);
  opened.database = database;
  let storage: SyncStorage = database;
  if (backend === 'cached') {
    memcached ??= startMemcached();
    const server = await memcached;
    storage = createCachedStorage({
      storage: database,
      cache: new ObservedCacheStore(
        new MemcachedClient({ servers: [server.address] }),
        metrics,
        cacheKeyKind(`a${process.pid}-${n}-`, new Set(['tabs'])),
      ),
      cachedCollections: ['meta', 'clients'],
      cacheOnlyCollections: ['tabs'],
      keyPrefix: `a${process.pid}-${n}-`,
    });
  }
  const app = buildApp({
    storage,
    config: { masterSecret: MASTER_SECRET, quotaBytes, ...(tokenserver && { publicUrl: NODE }) },
    observer: metrics,
    ...(tokenserver && { tokenserver }),
  });
  const purge = new PurgeScheduler({ storage, intervalSeconds: 0, observer: metrics });
  const history = new RecentHistory(metrics);
  const admin = buildAdminApp({
    token: ADMIN_TOKEN,
    metrics,
    history,
    storage: { storage, directory: database, purge, globalQuotaBytes: quotaBytes },
    ...(tokenserver && { tokenServer: tokenServerAdmin(tokenserver.store) }),
  });
  await Promise.all([app.ready(), admin.ready()]);
  const other = sideSql(url);
  return {
    admin,
    app,
    storage,
    database,
    metrics,
    ...(tokenserver && { tokenserver }),
    sql: other.sql,
    client: (uid) =>
      new SyncClient({
        masterSecret: MASTER_SECRET,
        uid,
        transport: injectTransport(app),
        ...(tokenserver && { baseUrl: NODE }),
      }),
    async call(method, url, body, headers = { authorization: `Bearer ${ADMIN_TOKEN}` }) {
      const res = await admin.inject({
        method,
        url,
        headers,
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return {
        status: res.statusCode,
        body: res.body,
        json: () => res.json(),
        headers: res.headers,
      };
    },
    async close() {
      await admin.close();
      await app.close();
      await tokenserver?.close();
      await storage.close();
      await other.close();
    },
  };
}
