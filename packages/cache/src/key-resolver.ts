/**
 * Resolves a caller's key and options to the key the store sees: the
 * namespace (per call or the cache's default), the groups, and for hashed
 * keys the generation counters (`generations.ts`) mixed into the hash
 * (`key-builder.ts`). On the hot path — generations cached in process, key
 * memoised (`store-key-memo.ts`) — this is synchronous and allocates little.
 */
import { CacheKeyError } from './cache-errors.js';
import type { ResolvedCacheOptions } from './cache-options.js';
import { encodeKey } from './canonical-key.js';
import type { StoreGuard } from './degraded-mode.js';
import type { GenerationCache } from './generations.js';
import { hashedStoreKey, internalKey, rawStoreKey } from './key-builder.js';
import { type KeySlot, StoreKeyMemo } from './store-key-memo.js';

export interface NamespaceOption {
  /** Namespace of this call; `undefined` = the cache's default, `null` = none. */
  namespace?: string | null;
}

export interface KeyOptions extends NamespaceOption {
  /** Use the string key verbatim (namespace prepended) instead of hashing it. */
  raw?: boolean;
  /** A group the entry belongs to (see `invalidateGroup`). Not for raw keys. */
  group?: string;
  /** Several groups; combined with `group`. */
  groups?: readonly string[];
}

/** A resolved key now, or later (generations had to be read); undefined while degraded. */
export type Resolution = ResolvedKey | Promise<ResolvedKey | undefined>;

export interface ResolvedKey {
  storeKey: string;
  namespace: string | null;
  /** Canonical key, or the raw key string. */
  id: string;
  raw: boolean;
  groups: string[];
}

export class KeyResolver {
  readonly rootGenerationKey: string;
  private readonly namespaceKeys = new Map<string | null, string>();
  private readonly storeKeys = new StoreKeyMemo((namespace, groups) => [
    this.rootGenerationKey,
    this.namespaceGenerationKey(namespace),
    ...groups.map((group) => this.groupGenerationKey(namespace, group)),
  ]);
  private readonly groupKeys = new Map<string | null, Map<string, string>>();

  constructor(
    private readonly options: Pick<
      ResolvedCacheOptions,
      'version' | 'namespace' | 'generationCacheMs'
    >,
    private readonly generations: GenerationCache,
    private readonly guard: StoreGuard,
  ) {
    this.rootGenerationKey = internalKey('gen', options.version, 'root');
  }

  /**
   * The store key of `key`. Synchronous when the generations are cached in
   * process (the hot path: no extra promise per read); `undefined` while degraded.
   */
  resolve(key: unknown, options: KeyOptions): Resolution {
    const namespace = this.namespaceOf(options);
    if (options.raw) {
      const groups = groupsOf(options);
      if (groups.length > 0) throw new CacheKeyError('groups need hashed keys, not raw ones');
      // rawStoreKey refuses a non-string key with a CacheKeyError.
      const storeKey = rawStoreKey(key, namespace);
      return { storeKey, namespace, id: key as string, raw: true, groups };
    }
    // One group (the common grouped read): its slot straight from the name, no array per call.
    const slot =
      options.groups === undefined && options.group !== undefined
        ? this.storeKeys.oneGroupSlot(namespace, checkGroup(options.group))
        : this.storeKeys.slot(namespace, groupsOf(options));
    return this.resolveInSlot(encodeKey(key), namespace, slot);
  }

  resolveId(id: string, raw: boolean, namespace: string | null, groups: string[]): Resolution {
    if (raw) return { storeKey: rawStoreKey(id, namespace), namespace, id, raw, groups: [] };
    return this.resolveInSlot(id, namespace, this.storeKeys.slot(namespace, groups));
  }

  private resolveInSlot(id: string, namespace: string | null, slot: KeySlot): Resolution {
    const cached = this.generations.peek(slot.generationKeys, this.options.generationCacheMs);
    if (cached) return this.hashed(id, namespace, slot, cached);
    return this.readGenerations(slot.generationKeys).then(
      (generations) => generations && this.hashed(id, namespace, slot, generations),
    );
  }

  private hashed(
    id: string,
    namespace: string | null,
    slot: KeySlot,
    generations: number[],
  ): ResolvedKey {
    const groups = slot.groups;
    let storeKey = this.storeKeys.get(slot, id, generations);
    if (storeKey === undefined) {
      storeKey = hashedStoreKey({
        version: this.options.version,
        rootGeneration: generations[0] ?? 0,
        namespace,
        namespaceGeneration: generations[1] ?? 0,
        groups: groups.map((group, i) => [group, generations[i + 2] ?? 0] as const),
        key: id,
      });
      this.storeKeys.set(slot, id, generations, storeKey);
    }
    return { storeKey, namespace, id, raw: false, groups };
  }

  private readGenerations(keys: readonly string[]): Promise<number[] | undefined> {
    return this.guard.run<number[] | undefined>(
      () => this.generations.read(keys, this.options.generationCacheMs),
      undefined,
    );
  }

  /**
   * The tracking record of a namespace's hashed keys changes with the
   * generations, so invalidateAll empties it in O(1); raw keys live outside
   * the generations and keep a record of their own.
   */
  async trackerKey(namespace: string | null, raw: boolean): Promise<string | undefined> {
    if (raw) return this.rawTrackerKey(namespace);
    const generations = await this.readGenerations([
      this.rootGenerationKey,
      this.namespaceGenerationKey(namespace),
    ]);
    return generations && internalKey('track', this.options.version, namespace, ...generations);
  }

  rawTrackerKey(namespace: string | null): string {
    return internalKey('track', this.options.version, namespace, 'raw');
  }

  namespaceGenerationKey(namespace: string | null): string {
    let key = this.namespaceKeys.get(namespace);
    if (key === undefined) {
      if (this.namespaceKeys.size >= 1000) this.namespaceKeys.clear();
      key = internalKey('gen', this.options.version, 'ns', namespace);
      this.namespaceKeys.set(namespace, key);
    }
    return key;
  }

  groupGenerationKey(namespace: string | null, group: string): string {
    let keys = this.groupKeys.get(namespace);
    if (keys === undefined || keys.size >= 1000) {
      if (this.groupKeys.size >= 1000) this.groupKeys.clear();
      keys = new Map();
      this.groupKeys.set(namespace, keys);
    }
    let key = keys.get(group);
    if (key === undefined) {
      key = internalKey('gen', this.options.version, 'group', namespace, group);
      keys.set(group, key);
    }
    return key;
  }

  namespaceOf(options: NamespaceOption): string | null {
    const namespace = options.namespace === undefined ? this.options.namespace : options.namespace;
    if (namespace !== null && typeof namespace !== 'string') {
      throw new CacheKeyError(`a namespace must be a string or null, got ${typeof namespace}`);
    }
    return namespace;
  }
}

export function checkGroup(group: unknown): string {
  if (typeof group !== 'string')
    throw new CacheKeyError(`a group name must be a string, got ${typeof group}`);
  return group;
}

const NO_GROUPS: string[] = [];

function groupsOf(options: KeyOptions): string[] {
  if (options.groups === undefined) {
    return options.group === undefined ? NO_GROUPS : [checkGroup(options.group)];
  }
  const all = [...(options.groups ?? []), ...(options.group === undefined ? [] : [options.group])];
  return [...new Set(all.map(checkGroup))].sort();
}
