/**
 * Turns (version, namespace, generations, key) into the key the store sees.
 *
 * Hashed keys: `k` + base64url(sha-256) of a canonical tuple, 44 bytes, safe
 * for memcached whatever the key holds. The version prefix, the namespace's
 * and the groups' generations are inside the tuple, so bumping a generation
 * (see `generations.ts`) makes every older entry unreachable in O(1); the old
 * entries age out through their TTL or memcached's LRU.
 *
 * Raw keys: the string verbatim with the namespace prepended, so programs
 * outside this toolkit can read them. A raw key over memcached's 250-byte
 * limit keeps its first bytes and gets a `~` and the sha-256 of the whole key
 * appended — two long keys with a common prefix stay two keys (the seed
 * truncated into an md5 of the key; we never truncate without the digest of
 * the full key).
 */
import { createHash } from 'node:crypto';
import { BoundedMemo } from './bounded-memo.js';
import { CacheKeyError } from './cache-errors.js';
import type { CanonicalKey } from './canonical-key.js';

/** memcached's key length limit (protocol.txt, "Keys"). */
export const MAX_KEY_BYTES = 250;
const DIGEST_CHARS = 43; // sha-256 in base64url, unpadded
const RAW_PREFIX_BYTES = MAX_KEY_BYTES - 1 - DIGEST_CHARS;

export function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

export interface HashedKeyParts {
  version: string;
  rootGeneration: number;
  namespace: string | null;
  namespaceGeneration: number;
  /** [group name, generation] pairs, sorted by name. */
  groups: ReadonlyArray<readonly [string, number]>;
  key: CanonicalKey;
}

const storeKeys = new BoundedMemo();
const internalKeys = new BoundedMemo();
const hashedKey = (tuple: string): string => 'k' + digest(tuple);

export function hashedStoreKey(parts: HashedKeyParts): string {
  // Parts joined with NUL: every part is JSON text or a number, and JSON
  // escapes control characters, so no part contains a raw NUL and the join
  // is unambiguous. Cheaper than JSON.stringify of a tuple on the hot path.
  let tuple =
    JSON.stringify(parts.version) +
    '\0' +
    parts.rootGeneration +
    '\0' +
    JSON.stringify(parts.namespace) +
    '\0' +
    parts.namespaceGeneration;
  for (const [group, generation] of parts.groups) {
    tuple += '\0' + JSON.stringify(group) + '\0' + generation;
  }
  return storeKeys.get(tuple + '\0\0' + parts.key, hashedKey);
}

export function rawStoreKey(key: unknown, namespace: string | null): string {
  if (typeof key !== 'string') {
    throw new CacheKeyError(`a raw key must be a string, got ${describe(key)}`);
  }
  if (namespace !== null && typeof namespace !== 'string') {
    throw new CacheKeyError(`a raw key's namespace must be a string, got ${describe(namespace)}`);
  }
  const full = (namespace ?? '') + key;
  if (full.length === 0) throw new CacheKeyError('a raw key must not be empty');
  if (Buffer.byteLength(full) <= MAX_KEY_BYTES) return full;
  return shorten(full);
}

function shorten(full: string): string {
  let prefix = Buffer.from(full).subarray(0, RAW_PREFIX_BYTES).toString('utf8');
  // A cut inside a multi-byte character decodes to U+FFFD (3 bytes): trim until it fits.
  while (Buffer.byteLength(prefix) > RAW_PREFIX_BYTES) prefix = prefix.slice(0, -1);
  return `${prefix}~${digest(full)}`;
}

/** Keys of the toolkit's own records (generations, dependency lists, trackers). */
export function internalKey(kind: 'gen' | 'dep' | 'track', ...parts: unknown[]): string {
  return internalKeys.get(JSON.stringify([kind, ...parts]), (tuple) => kind[0] + digest(tuple));
}

function describe(value: unknown): string {
  return typeof value === 'object' ? (value === null ? 'null' : 'an object') : typeof value;
}
