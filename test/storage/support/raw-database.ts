/**
 * Direct access to a test database, beside the storage under test: to build
 * an old server-syncstorage database by hand and to look at the rows our
 * backend wrote. SQLite through better-sqlite3, PostgreSQL through pg,
 * MariaDB through mysql2 (`?` placeholders everywhere).
 */
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';

export interface RawDatabase {
  readonly kind: 'sqlite' | 'postgres' | 'mysql';
  exec(sql: string, params?: unknown[]): Promise<void>;
  rows<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export function rawSqlite(path: string): RawDatabase {
  const db = new Database(path);
  return {
    kind: 'sqlite',
    async exec(sql, params = []) {
      db.prepare(sql).run(...params);
    },
    async rows<T>(sql: string, params: unknown[] = []) {
      return db.prepare(sql).all(...params) as T[];
    },
    async close() {
      db.close();
    },
  };
}

export async function rawPostgres(url: string): Promise<RawDatabase> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  return {
    kind: 'postgres',
    async exec(sql, params = []) {
      await client.query(numbered(sql), params);
    },
    async rows<T>(sql: string, params: unknown[] = []) {
      return (await client.query(numbered(sql), params)).rows as T[];
    },
    async close() {
      await client.end();
    },
  };
}

export async function rawMysql(url: string): Promise<RawDatabase> {
  const connection = await mysql.createConnection({ uri: url, multipleStatements: false });
  return {
    kind: 'mysql',
    async exec(sql, params = []) {
      await connection.query(sql, params);
    },
    async rows<T>(sql: string, params: unknown[] = []) {
      const [rows] = await connection.query(sql, params);
      return rows as T[];
    },
    async close() {
      await connection.end();
    },
  };
}
