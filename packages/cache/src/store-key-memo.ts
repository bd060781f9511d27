/**
 * Hot-path memo of store keys. A `KeySlot` is one (namespace, groups) pair:
 * the keys of its generation counters, built once, and its store keys by
 * canonical key with the generations each was built with. A hit costs a
 * slot lookup (one or two Map gets on the namespace and the group name —
 * no string built per call) and one Map get on the canonical key, instead
 * of building the key tuple and hashing it (profiling showed the tuple's
 * Map lookup alone at an eighth of a cached read's CPU, and a slot string
 * rebuilt with `JSON.stringify(groups)` per grouped read at 2.5 %). A
 * generation bump simply stops matching. Bounded: a slot's map is emptied
 * at `limit` keys, a namespace's slots at 1,000, the namespaces at 1,000.
 */
interface Memoized {
  generations: readonly number[];
  storeKey: string;
}

export interface KeySlot {
  /** The groups, sorted and unique (shared by every resolution of this slot: never mutated). */
  readonly groups: string[];
  /** Root, namespace, then one per group: the counters mixed into the hash. */
  readonly generationKeys: readonly string[];
  readonly storeKeys: Map<string, Memoized>;
}

interface NamespaceSlots {
  none: KeySlot | undefined;
  /** By the one group's name. */
  one: Map<string, KeySlot>;
  /** By `JSON.stringify(groups)` (several groups: the rare case). */
  many: Map<string, KeySlot>;
}

const SLOT_LIMIT = 1000;

export class StoreKeyMemo {
  private readonly byNamespace = new Map<string | null, NamespaceSlots>();

  constructor(
    /** The generation counters' keys of a new slot. */
    private readonly generationKeysOf: (
      namespace: string | null,
      groups: readonly string[],
    ) => string[],
    private readonly limit = 10_000,
  ) {}

  /** The slot of `namespace` and `groups` (sorted, unique). */
  slot(namespace: string | null, groups: string[]): KeySlot {
    const slots = this.namespaceSlots(namespace);
    if (groups.length === 0) {
      return (slots.none ??= this.newSlot(namespace, groups));
    }
    if (groups.length === 1) return this.oneGroupSlot(namespace, groups[0] as string);
    const name = JSON.stringify(groups);
    let slot = slots.many.get(name);
    if (slot === undefined) {
      if (slots.many.size >= SLOT_LIMIT) slots.many.clear();
      slot = this.newSlot(namespace, groups);
      slots.many.set(name, slot);
    }
    return slot;
  }

  /** The slot of `namespace` and the single group `group`, without an array per call. */
  oneGroupSlot(namespace: string | null, group: string): KeySlot {
    const slots = this.namespaceSlots(namespace);
    let slot = slots.one.get(group);
    if (slot === undefined) {
      if (slots.one.size >= SLOT_LIMIT) slots.one.clear();
      slot = this.newSlot(namespace, [group]);
      slots.one.set(group, slot);
    }
    return slot;
  }

  get(slot: KeySlot, id: string, generations: readonly number[]): string | undefined {
    const hit = slot.storeKeys.get(id);
    if (!hit || hit.generations.length !== generations.length) return undefined;
    for (let i = 0; i < generations.length; i++) {
      if (hit.generations[i] !== generations[i]) return undefined;
    }
    return hit.storeKey;
  }

  set(slot: KeySlot, id: string, generations: readonly number[], storeKey: string): void {
    if (slot.storeKeys.size >= this.limit) slot.storeKeys.clear();
    slot.storeKeys.set(id, { generations, storeKey });
  }

  private namespaceSlots(namespace: string | null): NamespaceSlots {
    let slots = this.byNamespace.get(namespace);
    if (slots === undefined) {
      if (this.byNamespace.size >= SLOT_LIMIT) this.byNamespace.clear();
      slots = { none: undefined, one: new Map(), many: new Map() };
      this.byNamespace.set(namespace, slots);
    }
    return slots;
  }

  private newSlot(namespace: string | null, groups: string[]): KeySlot {
    return {
      groups,
      generationKeys: this.generationKeysOf(namespace, groups),
      storeKeys: new Map(),
    };
  }
}
