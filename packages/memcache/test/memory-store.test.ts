/**
 * The in-process store: the shared conformance suite (with a fake clock, so
 * no test sleeps), plus what only this store has — see memory-*.test.ts.
 */
import { MemoryStore } from '../src/memory-store.js';
import { ManualClock, registerStoreConformance } from '@syncstorage-ts/memcache/conformance';

const clock = new ManualClock();

registerStoreConformance({
  name: 'MemoryStore (fake clock)',
  createStore: async () => new MemoryStore({ now: clock.now }),
  capabilities: { clock },
});

registerStoreConformance({
  name: 'MemoryStore (real clock, small item limit)',
  createStore: async () => new MemoryStore({ maxValueSize: 64 * 1024, maxBytes: 1024 * 1024 }),
  capabilities: { maxValueSize: 64 * 1024 },
});
