/** Cache options: defaults, validation once at construction, frozen. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cache, CacheOptionError } from '../src/index.js';
import type { CacheStore } from '@syncstorage-ts/memcache';
import { MemoryStore } from '@syncstorage-ts/memcache';

const store = new MemoryStore();

test('defaults: lifetime 3600, no namespace, no tracking, grace 30, 500 ms generation cache', () => {
  const { options } = new Cache({ store });
  assert.equal(options.lifetime, 3600);
  assert.equal(options.namespace, null);
  assert.equal(options.version, '');
  assert.equal(options.trackKeys, false);
  assert.equal(options.maxTrackedKeys, 1000);
  assert.equal(options.grace, 30);
  assert.equal(options.generationCacheMs, 500);
  assert.equal(options.beta, 0);
  assert.ok(Object.isFrozen(options));
});

test('bad options are CacheOptionErrors naming the option', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ lifetime: -1 }, /lifetime/],
    [{ lifetime: Number.NaN }, /lifetime/],
    [{ grace: 0 }, /grace/],
    [{ grace: 1.5 }, /grace/],
    [{ maxTrackedKeys: 0 }, /maxTrackedKeys/],
    [{ generationCacheMs: -5 }, /generationCacheMs/],
    [{ beta: Infinity }, /beta/],
    [{ namespace: 42 }, /namespace/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(
      () => new Cache({ store, ...bad }),
      (err: unknown) => {
        assert.ok(err instanceof CacheOptionError, String(err));
        assert.match(err.message, message);
        return true;
      },
    );
  }
  assert.throws(() => new Cache({ store: undefined as unknown as CacheStore }), CacheOptionError);
});

test('per-call lifetime and grace are checked too', async () => {
  const cache = new Cache({ store });
  await assert.rejects(
    cache.getOrSet('k', () => 1, { grace: 0 }),
    CacheOptionError,
  );
  await assert.rejects(
    cache.getOrSet('k', () => 1, { lifetime: -2 }),
    CacheOptionError,
  );
});
