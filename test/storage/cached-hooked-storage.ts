/**
 * A SyncStorage wrapper for the cached layer's tests: it records every call
 * that reaches the database and lets a test run code (pause, throw) right
 * before or after a chosen method, i.e. between the cache's dirty mark and
 * the write, or between the write and the cache refresh.
 */
import type { SyncStorage } from '../../src/storage/sync-storage.js';

export type StorageMethod = keyof SyncStorage;

export interface StorageHooks {
  before?: (method: StorageMethod, args: unknown[]) => Promise<void> | void;
  after?: (method: StorageMethod, result: unknown) => Promise<void> | void;
}

export interface HookedStorage {
  storage: SyncStorage;
  /** Methods called, in order (locks included). */
  calls: StorageMethod[];
  hooks: StorageHooks;
}

export function hookStorage(inner: SyncStorage): HookedStorage {
  const calls: StorageMethod[] = [];
  const hooks: StorageHooks = {};
  const storage = new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const method = prop as StorageMethod;
      return async (...args: unknown[]) => {
        calls.push(method);
        await hooks.before?.(method, args);
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(
          target,
          args,
        );
        await hooks.after?.(method, result);
        return result;
      };
    },
  });
  return { storage, calls, hooks };
}
