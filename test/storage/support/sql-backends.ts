/**
 * Runs SQL-backend-specific tests (purge, sharding) on each backend of the
 * matrix: a SQLite file in a temporary folder, a real PostgreSQL and a real
 * MariaDB with a fresh database per `open`. `raw` reads the tables directly.
 */
import { after, before, describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlStorage, type OpenSqlStorageOptions } from '../../../src/storage/sql/index.js';
import type { SyncStorage } from '../../../src/storage/sync-storage.js';
import {
  startMariadb,
  startPostgres,
  type MariadbServer,
  type PostgresServer,
} from '@syncstorage-ts/test-support';
import { rawMysql, rawPostgres, rawSqlite, type RawDatabase } from './raw-database.js';
import { skipUnless, type StorageBackend } from './storage-backends.js';

export interface OpenedBackend {
  storage: SyncStorage;
  raw: RawDatabase;
  url: string;
  close(): Promise<void>;
}

export type OpenBackend = (options?: Omit<OpenSqlStorageOptions, 'url'>) => Promise<OpenedBackend>;

export function forEachSqlBackend(
  title: string,
  body: (open: OpenBackend, backend: StorageBackend) => void,
): void {
  describe(`${title} (sqlite)`, skipUnless('sqlite'), () => {
    let dir = '';
    let n = 0;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'syncstorage-sql-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    body(async (options = {}) => {
      const path = join(dir, `db${++n}.sqlite`);
      const url = `sqlite:${path}`;
      const storage = await openSqlStorage({ ...options, url });
      const raw = rawSqlite(path);
      return {
        storage,
        raw,
        url,
        close: async () => {
          await storage.close();
          await raw.close();
        },
      };
    }, 'sqlite');
  });

  const servers: Array<{
    backend: StorageBackend;
    start: () => Promise<PostgresServer | MariadbServer>;
    raw: (url: string) => Promise<RawDatabase>;
  }> = [
    { backend: 'postgres', start: startPostgres, raw: rawPostgres },
    { backend: 'mariadb', start: startMariadb, raw: rawMysql },
  ];
  for (const { backend, start, raw: openRaw } of servers) {
    describe(`${title} (${backend})`, skipUnless(backend), () => {
      let server: PostgresServer | MariadbServer;
      let n = 0;
      before(async () => {
        server = await start();
      });
      after(() => server?.stop());
      body(async (options = {}) => {
        const url = await server.createDatabase(`sql_${process.pid}_${++n}`);
        const storage = await openSqlStorage({ ...options, url });
        const raw = await openRaw(url);
        return {
          storage,
          raw,
          url,
          close: async () => {
            await storage.close();
            await raw.close();
          },
        };
      }, backend);
    });
  }
}
