/**
 * Collection name ↔ id, backed by the `collections` table (the truth: an old
 * database may hold other ids than ours) and cached in memory; names are
 * global to the node, so the cache is shared by all users.
 */
import { FIRST_CUSTOM_COLLECTION_ID } from './standard-collections.js';
import type { SqlDialect, SqlExecutor } from '../../sql/sql-types.js';

/** The seed refused to cache more than this many names; so do we. */
const MAX_CACHED = 1000;

export class CollectionRegistry {
  readonly #byName = new Map<string, number>();
  readonly #byId = new Map<number, string>();

  constructor(private readonly dialect: SqlDialect) {}

  cached(name: string): number | undefined {
    return this.#byName.get(name);
  }

  remember(name: string, id: number): void {
    if (this.#byName.size >= MAX_CACHED) return;
    this.#byName.set(name, id);
    this.#byId.set(id, name);
  }

  /** Drop a name created in a transaction that rolled back. */
  forget(name: string): void {
    const id = this.#byName.get(name);
    this.#byName.delete(name);
    if (id !== undefined) this.#byId.delete(id);
  }

  /** The id of `name`, or undefined if no such collection exists on the node. */
  async lookup(executor: SqlExecutor, name: string): Promise<number | undefined> {
    const known = this.#byName.get(name);
    if (known !== undefined) return known;
    const row = await executor.get<{ collectionid: number }>(
      'SELECT collectionid FROM collections WHERE name = ?',
      [name],
    );
    if (!row) return undefined;
    const id = Number(row.collectionid);
    this.remember(name, id);
    return id;
  }

  /**
   * The id of `name`, creating it from the first custom id on. Returns
   * `created` so a caller inside a transaction can `forget` it on rollback.
   */
  async lookupOrCreate(
    executor: SqlExecutor,
    name: string,
  ): Promise<{ id: number; created: boolean }> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const existing = await this.lookup(executor, name);
      if (existing !== undefined) return { id: existing, created: false };
      const max = await executor.get<{ m: number | null }>(
        'SELECT MAX(collectionid) AS m FROM collections',
      );
      const next = Math.max(Number(max?.m ?? 0) + 1, FIRST_CUSTOM_COLLECTION_ID);
      // Another server may take the same id or name at the same moment:
      // DO NOTHING and look again.
      const inserted = await executor.run(
        `INSERT INTO collections (collectionid, name) VALUES (?, ?) ${this.dialect.ignoreDuplicate('collectionid')}`,
        [next, name],
      );
      if (inserted === 1) {
        this.remember(name, next);
        return { id: next, created: true };
      }
    }
    throw new Error(`could not allocate a collection id for ${name}`);
  }

  /** Names for ids, loading unknown ones in one query. Unknown ids are left out. */
  async names(executor: SqlExecutor, ids: readonly number[]): Promise<Map<number, string>> {
    const result = new Map<number, string>();
    const missing: number[] = [];
    for (const id of ids) {
      const name = this.#byId.get(id);
      if (name === undefined) missing.push(id);
      else result.set(id, name);
    }
    if (missing.length > 0) {
      const rows = await executor.all<{ collectionid: number; name: string }>(
        `SELECT collectionid, name FROM collections WHERE collectionid IN (${missing
          .map(() => '?')
          .join(',')})`,
        missing,
      );
      for (const row of rows) {
        const id = Number(row.collectionid);
        result.set(id, row.name);
        this.remember(row.name, id);
      }
    }
    return result;
  }
}
