/**
 * `INSERT … RETURNING <column>` where the dialect has it, else the INSERT
 * and then the connection's last generated id (MySQL 8 has no RETURNING).
 * Run on one executor, so the id is this INSERT's.
 */
import type { SqlDialect, SqlExecutor, SqlValue } from './sql-types.js';

export async function insertReturningId(
  executor: SqlExecutor,
  dialect: SqlDialect,
  insert: string,
  params: readonly SqlValue[],
  column: string,
): Promise<number> {
  if (dialect.lastInsertId === null) {
    const row = await executor.get<Record<string, unknown>>(
      `${insert} RETURNING ${column}`,
      params,
    );
    return Number(row?.[column]);
  }
  await executor.run(insert, params);
  const row = await executor.get<{ id: unknown }>(dialect.lastInsertId);
  return Number(row?.id);
}
