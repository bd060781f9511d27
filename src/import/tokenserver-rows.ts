/**
 * The token server's rows, carried over when the source database holds
 * them (syncstorage-rs's and our layout are the same: `services`, `nodes`,
 * `users`): users keep their uid, generation, keys_changed_at and client
 * state, so Firefox's next token names the same uid and its data is where
 * it was. Services are matched by name and nodes by (service, node); a uid
 * the target already has for another account stops the import.
 */
import { insertReturningId } from '../sql/insert-returning-id.js';
import { inWriteTransaction, onReadConnection } from '../sql/sql-transaction.js';
import type { SqlDriver, SqlValue } from '../sql/sql-types.js';
import { migrateTokenserverSchema } from '../tokenserver/tokenserver-schema.js';

export interface TokenserverCopy {
  services: number;
  nodes: number;
  users: number;
}

export class TokenserverConflictError extends Error {}

const USER_COLUMNS =
  'uid, service, email, generation, client_state, created_at, replaced_at, nodeid, keys_changed_at';

export async function copyTokenserverRows(
  source: SqlDriver,
  target: SqlDriver,
): Promise<TokenserverCopy> {
  const copied: TokenserverCopy = { services: 0, nodes: 0, users: 0 };
  const read = (sql: string, params: SqlValue[] = []) =>
    onReadConnection(source, (executor) => executor.rows(sql, params));
  await inWriteTransaction(target, 60_000, (executor) =>
    migrateTokenserverSchema(executor, target.dialect),
  );
  const services = new Map<number, number>();
  const nodes = new Map<number, number>();
  await inWriteTransaction(target, 60_000, async (executor) => {
    for (const [id, service, pattern] of await read('SELECT id, service, pattern FROM services')) {
      const existing = await executor.get<{ id: unknown }>(
        'SELECT id FROM services WHERE service = ?',
        [service ?? null],
      );
      services.set(
        Number(id),
        existing
          ? Number(existing.id)
          : await insertReturningId(
              executor,
              target.dialect,
              'INSERT INTO services (service, pattern) VALUES (?, ?)',
              [service ?? null, pattern ?? null],
              'id',
            ),
      );
      if (!existing) copied.services++;
    }
    for (const [id, service, node, ...counters] of await read(
      'SELECT id, service, node, available, current_load, capacity, downed, backoff FROM nodes',
    )) {
      const mappedService = services.get(Number(service)) ?? Number(service);
      const existing = await executor.get<{ id: unknown }>(
        'SELECT id FROM nodes WHERE service = ? AND node = ?',
        [mappedService, node ?? null],
      );
      nodes.set(
        Number(id),
        existing
          ? Number(existing.id)
          : await insertReturningId(
              executor,
              target.dialect,
              `INSERT INTO nodes (service, node, available, current_load, capacity, downed, backoff)
               VALUES (?, ?, ?, ?, ?, ?, ?)`,
              [mappedService, node ?? null, ...counters],
              'id',
            ),
      );
      if (!existing) copied.nodes++;
    }
  });
  // Users in uid order, a thousand per transaction.
  for (let after = -1; ;) {
    const rows = await read(
      `SELECT ${USER_COLUMNS} FROM users WHERE uid > ? ORDER BY uid LIMIT 1000`,
      [after],
    );
    if (rows.length === 0) break;
    await inWriteTransaction(target, 60_000, async (executor) => {
      for (const row of rows) {
        const [uid, service, email, ...rest] = row;
        const nodeid = rest[4];
        const existing = await executor.get<{ email: unknown }>(
          'SELECT email FROM users WHERE uid = ?',
          [uid ?? null],
        );
        if (existing) {
          if (String(existing.email) !== String(email)) {
            throw new TokenserverConflictError(
              `the target token server has uid ${String(uid)} for another account: import into a token server without it`,
            );
          }
          continue;
        }
        const values = [...row];
        values[1] = services.get(Number(service)) ?? Number(service);
        values[7] = nodes.get(Number(nodeid)) ?? Number(nodeid);
        await executor.run(
          `INSERT INTO users (${USER_COLUMNS}) VALUES (${values.map(() => '?').join(', ')})`,
          values,
        );
        copied.users++;
      }
      for (const [table, column] of [
        ['services', 'id'],
        ['nodes', 'id'],
        ['users', 'uid'],
      ] as const) {
        const catchUp = target.dialect.identityCatchUp(table, column);
        if (catchUp) await executor.run(catchUp);
      }
    });
    after = Number(rows[rows.length - 1]![0]);
    if (rows.length < 1000) break;
  }
  return copied;
}
