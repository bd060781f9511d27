/**
 * Maps any `CacheKey` to the key memcached stores, so that nothing is altered,
 * nothing is injected and no two keys collide.
 *
 * memcached (protocol.txt, "Keys") accepts at most 250 bytes, no whitespace
 * and no control characters. The meta protocol's `b` flag ("interpret key as
 * base64 encoded binary value") lifts the character restriction, but the
 * 250-byte limit applies to the base64 text, so a binary key can carry at most
 * 186 bytes (248 base64 characters; measured against memcached 1.6.18).
 *
 * The mapping, applied to the key's bytes (strings as UTF-8):
 * 1. 1..250 bytes, all printable ASCII (0x21..0x7e): sent as is.
 * 2. 1..186 bytes otherwise: sent base64 with the `b` flag; memcached decodes
 *    it and stores these exact bytes (a plain key and a binary key with the same
 *    bytes are the same item, which keeps rule 1 and 2 consistent).
 * 3. Anything else (empty, longer than the above, or starting with the reserved
 *    marker `\0#`): stored under `\0#` + SHA-256(key bytes), sent base64.
 *    Keys starting with the marker always take rule 3, so a hashed key can only
 *    meet another key through a SHA-256 collision.
 * Strings that are not well-formed UTF-16 (lone surrogates) would lose
 * information in UTF-8, so they are hashed from their UTF-16 code units under a
 * second marker `\0$`.
 *
 * The stored key bytes (not the caller's) are what ketama hashes, so plain keys
 * land where other ketama clients put them.
 */
import { createHash } from 'node:crypto';
import { CacheInputError } from './errors.js';

/** Longest key memcached accepts, in bytes (protocol.txt "Keys"). */
export const MAX_KEY_BYTES = 250;
/** Longest raw key whose base64 form fits in `MAX_KEY_BYTES` characters. */
export const MAX_BINARY_KEY_BYTES = 186;

const HASH_MARKER = Buffer.from([0x00, 0x23]); // "\0#"
const UTF16_HASH_MARKER = Buffer.from([0x00, 0x24]); // "\0$"
// In a `u` regex a valid surrogate pair is one code point, so this finds only lone halves.
const LONE_SURROGATE = /\p{Surrogate}/u;

export interface EncodedKey {
  /** The key token as it appears on the wire (plain ASCII or base64). */
  readonly token: string;
  /** True when `token` is base64 and the command needs the `b` flag. */
  readonly binary: boolean;
  /** The bytes memcached stores, as ketama hashes them (a plain string when ASCII). */
  readonly hashInput: string | Buffer;
}

/** True for 1..250 printable ASCII characters: a key memcached takes as it is. */
export function isPlainAsciiString(key: string): boolean {
  if (key.length === 0 || key.length > MAX_KEY_BYTES) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function isPlainAsciiBytes(bytes: Buffer): boolean {
  if (bytes.length === 0 || bytes.length > MAX_KEY_BYTES) return false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function startsWithMarker(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x00 && (bytes[1] === 0x23 || bytes[1] === 0x24);
}

function hashed(marker: Buffer, bytes: Buffer): EncodedKey {
  const stored = Buffer.concat([marker, createHash('sha256').update(bytes).digest()]);
  return { token: stored.toString('base64'), binary: true, hashInput: stored };
}

function fromBytes(bytes: Buffer): EncodedKey {
  if (isPlainAsciiBytes(bytes)) {
    const token = bytes.toString('latin1');
    return { token, binary: false, hashInput: token };
  }
  if (bytes.length > 0 && bytes.length <= MAX_BINARY_KEY_BYTES && !startsWithMarker(bytes)) {
    return { token: bytes.toString('base64'), binary: true, hashInput: bytes };
  }
  return hashed(HASH_MARKER, bytes);
}

/** Encode a key for the wire (see the file comment for the exact mapping). */
export function encodeKey(key: string | Buffer): EncodedKey {
  if (typeof key === 'string') {
    // Fast path: the common printable-ASCII key needs no Buffer at all.
    if (isPlainAsciiString(key)) return { token: key, binary: false, hashInput: key };
    if (LONE_SURROGATE.test(key)) return hashed(UTF16_HASH_MARKER, Buffer.from(key, 'utf16le'));
    return fromBytes(Buffer.from(key, 'utf8'));
  }
  if (!Buffer.isBuffer(key)) {
    throw new CacheInputError(`a key is a string or a Buffer, got ${typeof key}`);
  }
  return fromBytes(key);
}
