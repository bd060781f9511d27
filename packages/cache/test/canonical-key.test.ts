/** Canonical key encoding and store key building (pure functions, no store). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CacheKeyError, decodeKey, encodeKey, MAX_KEY_BYTES, rawStoreKey } from '../src/index.js';

const jsonKey = fc.jsonValue({ maxDepth: 3 });

describe('canonical key encoding', () => {
  test('decoding gives back the key', () => {
    fc.assert(
      fc.property(jsonKey, (key) => {
        assert.deepEqual(decodeKey(encodeKey(key)), JSON.parse(JSON.stringify(key)));
      }),
    );
    const special = [Buffer.from([0, 255]), 12n, new Date('2024-01-02T03:04:05.000Z')];
    for (const key of special) assert.deepEqual(decodeKey(encodeKey(key)), key);
  });

  test('a "__proto__" property comes back as a property, never as a prototype', () => {
    // Found by the property above (fast-check's counterexample {"__proto__": null}).
    const key = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as object;
    const decoded = decodeKey(encodeKey(key)) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
    assert.deepEqual(Object.keys(decoded), ['__proto__', 'a']);
    assert.equal((decoded as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual(decoded, key);
  });

  test('two keys share an encoding exactly when they are equal', () => {
    fc.assert(
      fc.property(jsonKey, jsonKey, (a, b) => {
        const same = encodeKey(a) === encodeKey(b);
        assert.equal(same, JSON.stringify(sortDeep(a)) === JSON.stringify(sortDeep(b)));
      }),
    );
  });

  test('types are tagged: 1, "1", [1], {"0":1}, true, "true", a Buffer and its text differ', () => {
    const keys = [
      1,
      '1',
      [1],
      { 0: 1 },
      true,
      'true',
      null,
      'null',
      Buffer.from('x'),
      'x',
      ['b', 'eA=='],
    ];
    assert.equal(new Set(keys.map(encodeKey)).size, keys.length);
  });

  test('property order does not matter; undefined properties are absent', () => {
    assert.equal(encodeKey({ a: 1, b: 2 }), encodeKey({ b: 2, a: 1 }));
    assert.equal(encodeKey({ a: 1, c: undefined }), encodeKey({ a: 1 }));
  });

  test('unencodable keys are CacheKeyErrors', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    for (const bad of [
      undefined,
      () => 1,
      Symbol('s'),
      Number.NaN,
      Infinity,
      cyclic,
      new Set([1]),
    ]) {
      assert.throws(() => encodeKey(bad), CacheKeyError, String(bad));
    }
    assert.throws(() => decodeKey('not json'), CacheKeyError);
    assert.throws(() => decodeKey('["?"]'), CacheKeyError);
  });
});

describe('raw store keys', () => {
  test('verbatim, namespace prepended, control characters kept', () => {
    assert.equal(rawStoreKey('a', null), 'a');
    assert.equal(rawStoreKey('a', 'NS_'), 'NS_a');
    assert.equal(rawStoreKey('a b', null), 'a b');
    assert.throws(() => rawStoreKey(1, null), CacheKeyError);
    assert.throws(() => rawStoreKey('', null), CacheKeyError);
  });

  test('long keys fit in 250 bytes and never collide, whatever the characters', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 200, maxLength: 400, unit: 'grapheme' }),
        fc.string({ minLength: 1 }),
        (base, tail) => {
          const a = rawStoreKey(base + tail, null);
          const b = rawStoreKey(base + tail + '!', null);
          assert.ok(Buffer.byteLength(a) <= MAX_KEY_BYTES);
          assert.notEqual(a, b);
        },
      ),
      { numRuns: 200 },
    );
  });
});

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortDeep((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
