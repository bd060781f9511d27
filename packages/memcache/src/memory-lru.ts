/**
 * A least-recently-used map under a byte budget. A JavaScript `Map` iterates
 * in insertion order, so deleting and re-inserting an entry moves it to the
 * "most recent" end and the first entry is always the least recently used:
 * every operation is O(1) and there is no linked list to keep.
 */

export interface Sized {
  /** Bytes this entry counts against the budget. */
  readonly size: number;
}

export class ByteBudgetLru<V extends Sized> {
  readonly #entries = new Map<string, V>();
  #bytes = 0;

  /**
   * @param maxBytes the budget; `set` evicts least recently used entries until
   *   the total fits (never the entry it is storing).
   * @param onEvict told about every entry pushed out to make room.
   */
  constructor(
    readonly maxBytes: number,
    private readonly onEvict: (key: string, value: V) => void,
  ) {}

  /** Entries held (expired ones included until someone notices). */
  get count(): number {
    return this.#entries.size;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The entry, without changing its recency. */
  peek(key: string): V | undefined {
    return this.#entries.get(key);
  }

  /** Marks the entry as the most recently used. */
  bump(key: string): void {
    const value = this.#entries.get(key);
    if (value === undefined) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
  }

  /** Stores (or replaces) as the most recently used, then evicts down to the budget. */
  set(key: string, value: V): void {
    this.delete(key);
    this.#entries.set(key, value);
    this.#bytes += value.size;
    for (const [oldKey, oldValue] of this.#entries) {
      if (this.#bytes <= this.maxBytes || oldKey === key) break;
      this.delete(oldKey);
      this.onEvict(oldKey, oldValue);
    }
  }

  delete(key: string): boolean {
    const value = this.#entries.get(key);
    if (value === undefined) return false;
    this.#entries.delete(key);
    this.#bytes -= value.size;
    return true;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}
