/**
 * A storage node with the token server mounted (as `serve` runs it) over one
 * SQL driver, on SQLite (a file in a temporary folder), PostgreSQL or
 * MariaDB (a database of its own on the suite's server), against a fake FxA. `sql()`
 * gives a second, independent connection to the same database: the "other
 * tool" that changes rows while the server runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { MariadbServer, PostgresServer } from '@syncstorage-ts/test-support';
import { buildApp } from '../../../src/server/app.js';
import { openSqlDriver } from '../../../src/sql/open-sql-driver.js';
import type { SqlValue } from '../../../src/sql/sql-types.js';
import { openSqlStorage } from '../../../src/storage/sql/index.js';
import type { SyncStorage } from '../../../src/storage/sync-storage.js';
import { createTokenserver, type Tokenserver } from '../../../src/tokenserver/index.js';
import type { TokenserverConfigInput } from '../../../src/tokenserver/tokenserver-config.js';
import { sideSql } from '../../support/side-sql.js';
import type { FakeFxa } from './fake-fxa.js';

export type Backend = 'sqlite' | 'postgres' | 'mariadb';
// http: app.inject() requests are not encrypted, so the MAC's port is 80.
export const NODE = 'http://node.example.test';
export const MASTER_SECRET = 'tokenserver harness master secret';

export interface TokenHarness {
  app: FastifyInstance;
  storage: SyncStorage;
  tokenserver: Tokenserver;
  url: string;
  /** Run SQL on a separate connection (autocommit). */
  sql(text: string, params?: SqlValue[]): Promise<Array<Record<string, unknown>>>;
  /** GET /1.0/sync/1.5 with these headers. */
  token(
    headers: Record<string, string>,
    path?: string,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

let counter = 0;

export async function createTokenHarness(options: {
  backend: Backend;
  fxa: FakeFxa;
  postgres?: PostgresServer;
  mariadb?: MariadbServer;
  config?: Partial<TokenserverConfigInput>;
  /** Add the node (capacity 100). Default true. */
  node?: boolean;
}): Promise<TokenHarness> {
  let dir: string | undefined;
  let url: string;
  if (options.backend === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'tokenserver-test-'));
    url = `sqlite:${join(dir, 'sync.db')}`;
  } else {
    const server = options.backend === 'mariadb' ? options.mariadb! : options.postgres!;
    url = await server.createDatabase(`tokens_${process.pid}_${++counter}`);
  }
  const driver = await openSqlDriver({ url, lockTimeoutMs: 3000 });
  const storage = await openSqlStorage({ url, driver });
  const tokenserver = await createTokenserver({
    driver,
    config: {
      masterSecret: MASTER_SECRET,
      oauthServerUrl: options.fxa.url,
      jwks: [options.fxa.publicJwk],
      nodeType: options.backend,
      oauthRequestTimeoutMs: 1000,
      ...options.config,
    },
  });
  if (options.node !== false) await tokenserver.store.ensureNode(NODE, 100, false);
  const app = buildApp({
    storage,
    config: { masterSecret: MASTER_SECRET, publicUrl: NODE },
    tokenserver,
  });
  await app.ready();
  const other = sideSql(url);
  return {
    app,
    storage,
    tokenserver,
    url,
    sql: other.sql,
    async token(headers, path = '/1.0/sync/1.5') {
      const res = await app.inject({ method: 'GET', url: path, headers });
      assertJson(res.headers['content-type']);
      return {
        status: res.statusCode,
        body: JSON.parse(res.body) as Record<string, unknown>,
        headers: res.headers,
      };
    },
    async close() {
      await app.close();
      await tokenserver.close();
      await storage.close();
      await other.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Firefox refuses any token server answer that is not JSON. */
function assertJson(type: unknown): void {
  if (typeof type !== 'string' || !type.startsWith('application/json')) {
    throw new Error(`token server answered ${String(type)}, not JSON`);
  }
}

/** X-KeyID for keys_changed_at and client state bytes given as hex. */
export function keyId(keysChangedAt: number, clientStateHex: string): string {
  return `${keysChangedAt}-${Buffer.from(clientStateHex, 'hex').toString('base64url')}`;
}
