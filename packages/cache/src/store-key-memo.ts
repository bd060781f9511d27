/**
 * Hot-path memo of store keys: namespace → (canonical key, groups) → the
 * store key and the generations it was built with. A hit costs two Map
 * lookups on short strings and a few number compares, instead of building
 * the key tuple and hashing it (profiling showed the tuple's Map lookup
 * alone at an eighth of a cached read's CPU). A generation bump simply
 * stops matching. Bounded: a namespace's map is emptied at `limit` keys.
 */
interface Memoized {
  generations: readonly number[];
  storeKey: string;
}

export class StoreKeyMemo {
  private readonly byNamespace = new Map<string | null, Map<string, Memoized>>();

  constructor(private readonly limit = 10_000) {}

  get(namespace: string | null, slot: string, generations: readonly number[]): string | undefined {
    const hit = this.byNamespace.get(namespace)?.get(slot);
    if (!hit || hit.generations.length !== generations.length) return undefined;
    for (let i = 0; i < generations.length; i++) {
      if (hit.generations[i] !== generations[i]) return undefined;
    }
    return hit.storeKey;
  }

  set(
    namespace: string | null,
    slot: string,
    generations: readonly number[],
    storeKey: string,
  ): void {
    let keys = this.byNamespace.get(namespace);
    if (!keys) {
      if (this.byNamespace.size >= 1000) this.byNamespace.clear();
      keys = new Map();
      this.byNamespace.set(namespace, keys);
    }
    if (keys.size >= this.limit) keys.clear();
    keys.set(slot, { generations, storeKey });
  }
}

/** The memo slot of a key and its groups (NUL never occurs in canonical keys or JSON group names). */
export function memoSlot(id: string, groups: readonly string[]): string {
  return groups.length === 0 ? id : id + '\0' + JSON.stringify(groups);
}
