/**
 * The dialect entries PostgreSQL and SQLite (3.35+) share: SQL-standard-ish
 * `ON CONFLICT … DO UPDATE` with `excluded.`, `UPDATE … FROM`, `NULLS LAST`.
 * MySQL/MariaDB spell each differently (mysql-driver.ts).
 */
import type { SqlDialect } from './sql-types.js';

export const standardSqlSyntax = Object.freeze({
  migrationUnlock: null,
  lastInsertId: null,
  identityCatchUp: () => null,
  ignoreDuplicate: () => 'ON CONFLICT DO NOTHING',
  upsert: (keyColumns: string, assignments: string) =>
    `ON CONFLICT (${keyColumns}) DO UPDATE SET ${assignments}`,
  inserted: (column: string) => `excluded.${column}`,
  updateJoined: (
    target: string,
    source: string,
    assignments: ReadonlyArray<readonly [string, string]>,
    where: string,
  ) =>
    `UPDATE ${target} SET ${assignments.map(([column, value]) => `${column} = ${value}`).join(', ')}
     FROM ${source} WHERE ${where}`,
  bigintCast: 'BIGINT',
  textCast: 'TEXT',
  intCast: 'INTEGER',
  descNullsLast: (column: string) => `${column} DESC NULLS LAST`,
} satisfies Partial<SqlDialect>);
