/**
 * A chaos wrapper at the CacheStore seam: forwards every call to the inner
 * store, or fails it with `CacheUnavailableError` while switched down — the
 * outage of any store, without stopping a server.
 */
import type { CacheStore } from '@syncstorage-ts/memcache';
import { CacheUnavailableError } from '@syncstorage-ts/memcache';

export interface ChaosStore {
  store: CacheStore;
  down: boolean;
  /** Calls that reached the inner store. */
  forwarded: number;
}

export function chaosStore(inner: CacheStore): ChaosStore {
  const chaos: ChaosStore = { store: inner, down: false, forwarded: 0 };
  chaos.store = new Proxy(inner, {
    get(target, property, receiver) {
      const member: unknown = Reflect.get(target, property, receiver);
      if (typeof member !== 'function') return member;
      return async (...args: unknown[]) => {
        if (chaos.down) throw new CacheUnavailableError('chaos: store switched down', 'chaos:0');
        chaos.forwarded++;
        return (member as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
  return chaos;
}
