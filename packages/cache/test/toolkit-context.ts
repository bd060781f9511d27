/**
 * What every part of the shared toolkit suite gets: the store under test
 * (flushed before each test), a factory for caches on it, and the
 * implementation's capabilities.
 */
import type { CacheStore } from '@syncstorage-ts/memcache';
import { Cache, GenerationCache, type CacheLogger, type CacheOptions } from '../src/index.js';

export interface ToolkitFixture {
  store: CacheStore;
  /** A second client on the same data (another connection), where the store can be shared. */
  peer?: CacheStore;
  close(): Promise<void>;
}

export interface ToolkitCapabilities {
  /** `stats()` reports memcached's per-server statistics ("host:port" → total_items, …). */
  memcachedStats: boolean;
}

export interface CacheToolkitSuiteOptions {
  name: string;
  setup(): Promise<ToolkitFixture>;
  capabilities: ToolkitCapabilities;
}

export interface LogLine {
  obj: Record<string, unknown>;
  msg: string;
}

export class ToolkitContext {
  fixture!: ToolkitFixture;
  constructor(readonly capabilities: ToolkitCapabilities) {}

  get store(): CacheStore {
    return this.fixture.store;
  }

  cache(options: Partial<CacheOptions> = {}): Cache {
    return new Cache({ store: this.store, ...options });
  }

  /** A cache with its own generation counters read on every call, as another process would. */
  isolatedCache(options: Partial<CacheOptions> = {}, store = this.store): Cache {
    return new Cache({
      store,
      generationCacheMs: 0,
      generations: new GenerationCache(store),
      ...options,
    });
  }

  async reset(): Promise<void> {
    await this.store.flush();
    GenerationCache.forStore(this.store).clear();
    if (this.fixture.peer) GenerationCache.forStore(this.fixture.peer).clear();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function recordingLogger(): CacheLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (bindings: Record<string, unknown>): CacheLogger => {
    const log = (obj: Record<string, unknown>, msg: string): void => {
      lines.push({ obj: { ...bindings, ...obj }, msg });
    };
    return {
      debug: log,
      info: log,
      warn: log,
      error: log,
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return Object.assign(make({}), { lines });
}
