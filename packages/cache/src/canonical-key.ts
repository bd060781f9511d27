/**
 * Canonical, type-tagged encoding of cache keys. Any JSON-able value is a key;
 * two keys are the same entry exactly when their encodings are equal:
 *
 * - strings, finite numbers, booleans and `null` encode as JSON, so `1` and
 *   `"1"` differ, and nothing is stripped (`"a b"` and `"ab"` differ — the
 *   seed deleted control characters and made them collide);
 * - arrays become `["a", ...items]`, plain objects `["o", k1, v1, ...]` with
 *   keys sorted, so `{a, b}` and `{b, a}` are one key;
 * - Buffers/Uint8Arrays `["b", base64]`, bigints `["i", digits]`, Dates
 *   `["d", iso]` — the tag keeps them apart from strings and arrays.
 *
 * The encoding is reversible (`decodeKey`), which lets key tracking list the
 * original keys. Anything else (functions, symbols, cycles, NaN, class
 * instances without `toJSON`) is a `CacheKeyError`.
 */
import { CacheKeyError } from './cache-errors.js';

export type CanonicalKey = string;

export function encodeKey(key: unknown): CanonicalKey {
  // The common case first: a plain string key costs one JSON.stringify.
  if (typeof key === 'string') return JSON.stringify(key);
  return JSON.stringify(toTree(key, new Set()));
}

export function decodeKey(encoded: CanonicalKey): unknown {
  let tree: unknown;
  try {
    tree = JSON.parse(encoded);
  } catch (cause) {
    throw new CacheKeyError(`not a canonical key encoding: ${encoded.slice(0, 80)}`, { cause });
  }
  return fromTree(tree);
}

type Tree = string | number | boolean | null | Tree[];

function toTree(value: unknown, seen: Set<object>): Tree {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new CacheKeyError(`key number must be finite: ${value}`);
      return value;
    case 'bigint':
      return ['i', value.toString()];
    case 'object':
      if (value === null) return null;
      return objectTree(value, seen);
    default:
      throw new CacheKeyError(`a ${typeof value} cannot be a cache key`);
  }
}

function objectTree(value: object, seen: Set<object>): Tree {
  if (value instanceof Uint8Array) return ['b', Buffer.from(value).toString('base64')];
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new CacheKeyError('an invalid Date cannot be a key');
    return ['d', value.toISOString()];
  }
  if (seen.has(value)) throw new CacheKeyError('a key must not contain a cycle');
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return ['a', ...value.map((item: unknown) => toTree(item, seen))];
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return toTree(toJSON.call(value), seen);
      throw new CacheKeyError(`a ${value.constructor?.name ?? 'class'} instance cannot be a key`);
    }
    const out: Tree[] = ['o'];
    for (const name of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[name];
      // JSON semantics: an undefined property is absent.
      if (item === undefined) continue;
      out.push(name, toTree(item, seen));
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function fromTree(tree: unknown): unknown {
  if (!Array.isArray(tree)) return tree;
  const [tag, ...rest] = tree as unknown[];
  switch (tag) {
    case 'a':
      return rest.map(fromTree);
    case 'o': {
      const out: Record<string, unknown> = {};
      for (let i = 0; i + 1 < rest.length; i += 2) {
        // Defined, not assigned: assigning a "__proto__" property would set
        // the object's prototype instead of giving it that key back.
        Object.defineProperty(out, String(rest[i]), {
          value: fromTree(rest[i + 1]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    case 'b':
      return Buffer.from(String(rest[0]), 'base64');
    case 'i':
      return BigInt(String(rest[0]));
    case 'd':
      return new Date(String(rest[0]));
    default:
      throw new CacheKeyError(`unknown key tag ${JSON.stringify(tag)}`);
  }
}
