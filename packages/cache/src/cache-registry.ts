/**
 * Invalidation events across caches: named caches register, and an event
 * (key, namespace, raw, dependencies) is applied to one named cache or to
 * every registered one — the seed's zope event handler without the global
 * component registry: the registry is an object the application passes
 * around.
 */
import { UnknownCacheError } from './cache-errors.js';

/** What a cache must offer to receive invalidation events (`Cache` does). */
export interface Invalidatable {
  invalidate(
    key: unknown,
    options?: { namespace?: string | null; raw?: boolean },
  ): Promise<boolean>;
  invalidateDependencies(
    dependencies: readonly unknown[],
    options?: { namespace?: string | null },
  ): Promise<void>;
  invalidateAll(options?: { namespace?: string | null }): Promise<void>;
}

export interface InvalidationEvent {
  /** Only this registered cache; default: all of them. */
  cacheName?: string;
  /** Invalidate this key. */
  key?: unknown;
  /** Namespace of the key / dependencies; default: each cache's own default. */
  namespace?: string | null;
  /** The key is raw. */
  raw?: boolean;
  /** Invalidate every entry that named one of these. */
  dependencies?: readonly unknown[];
  /** Invalidate everything (the namespace only, if `namespace` is given). */
  all?: boolean;
}

export class CacheRegistry {
  private readonly caches = new Map<string, Invalidatable>();

  /** Register (or replace) a cache under `name`. */
  register(name: string, cache: Invalidatable): void {
    this.caches.set(name, cache);
  }

  /** Resolves whether a cache was registered under `name`. */
  unregister(name: string): boolean {
    return this.caches.delete(name);
  }

  get(name: string): Invalidatable | undefined {
    return this.caches.get(name);
  }

  names(): string[] {
    return [...this.caches.keys()];
  }

  /**
   * Apply an invalidation event. Throws `UnknownCacheError` if `cacheName`
   * is not registered; store outages are absorbed by each cache.
   */
  async dispatch(event: InvalidationEvent): Promise<void> {
    const targets = this.targets(event.cacheName);
    await Promise.all(targets.map((cache) => applyEvent(cache, event)));
  }

  private targets(name: string | undefined): Invalidatable[] {
    if (name === undefined) return [...this.caches.values()];
    const cache = this.caches.get(name);
    if (!cache) throw new UnknownCacheError(name);
    return [cache];
  }
}

async function applyEvent(cache: Invalidatable, event: InvalidationEvent): Promise<void> {
  const scope = 'namespace' in event ? { namespace: event.namespace ?? null } : {};
  const work: Array<Promise<unknown>> = [];
  if (event.key !== undefined) work.push(cache.invalidate(event.key, { ...scope, raw: event.raw }));
  if (event.dependencies?.length)
    work.push(cache.invalidateDependencies(event.dependencies, scope));
  if (event.all) work.push(cache.invalidateAll(scope));
  await Promise.all(work);
}
