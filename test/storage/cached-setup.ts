/**
 * Builds a cached layer for the cached-* tests: SQLite in memory behind a
 * hooked wrapper (`cached-hooked-storage.ts`), a cache behind a ChaosStore,
 * the production collection setup, a test clock and a captured log.
 */
import { MemoryStore } from '@syncstorage-ts/memcache';
import type { CacheStore } from '@syncstorage-ts/memcache';
import type { CacheLogger } from '@syncstorage-ts/cache';
import {
  type CachedStorage,
  type CachedStorageOptions,
  createCachedStorage,
  PRODUCTION_DEFAULTS,
} from '../../src/storage/cached/index.js';
import { openSqlStorage } from '../../src/storage/sql/index.js';
import { ChaosStore } from './cached-chaos-store.js';
import { hookStorage, type HookedStorage } from './cached-hooked-storage.js';
import { TestClock } from './support/test-clock.js';

export interface CachedFixture {
  storage: CachedStorage;
  db: HookedStorage;
  chaos: ChaosStore;
  /** The store under the chaos wrapper, for inspecting keys. */
  raw: CacheStore;
  clock: TestClock;
  logs: Array<{ level: string; message: string }>;
  prefix: string;
  /** Decoded JSON value of a key (prefix added), or undefined. */
  peek(key: string): Promise<unknown>;
}

/** A `CacheLogger` (the cache package's contract) that keeps each line's level and message. */
function recordingLogger(logs: CachedFixture['logs']): CacheLogger {
  const at =
    (level: string) =>
    (_obj: Record<string, unknown>, message: string): void => {
      logs.push({ level, message });
    };
  const logger: CacheLogger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

let nextUserId = 5000 + Math.floor(Math.random() * 1_000_000) * 10;
export function newUser(): number {
  return nextUserId++;
}

export async function cachedFixture(
  options: { cache?: CacheStore; url?: string } & Partial<CachedStorageOptions> = {},
): Promise<CachedFixture> {
  const clock = new TestClock();
  const now = () => clock.now();
  const raw = options.cache ?? new MemoryStore();
  const chaos = new ChaosStore(raw);
  const db = hookStorage(
    await openSqlStorage({
      url: options.url ?? 'sqlite::memory:',
      clock: now,
      lockTimeoutMs: 2000,
    }),
  );
  const logs: CachedFixture['logs'] = [];
  const prefix = `f${Math.random().toString(36).slice(2, 8)}:`;
  const storage = createCachedStorage({
    ...PRODUCTION_DEFAULTS,
    ...options,
    storage: db.storage,
    cache: chaos,
    keyPrefix: prefix,
    clock: now,
    logger: recordingLogger(logs),
  });
  return {
    storage,
    db,
    chaos,
    raw,
    clock,
    logs,
    prefix,
    async peek(key) {
      const value = await raw.get(prefix + key);
      if (typeof value === 'string') return JSON.parse(value) as unknown;
      if (Buffer.isBuffer(value)) return JSON.parse(value.toString()) as unknown;
      return value;
    },
  };
}
