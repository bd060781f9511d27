/**
 * How the in-process store turns values into bytes and back. It keeps bytes,
 * not object references, for the same reasons the memcached client does:
 * `append`/`prepend` and `incr`/`decr` work on raw bytes, the item size limit
 * counts bytes, and a caller mutating an object after `set` (or after `get`)
 * must not change what is cached — serializing is the copy.
 *
 * Buffers (any Uint8Array) pass through as bytes and come back as Buffers; strings are UTF-8
 * and come back as strings; everything else is JSON (so numbers, booleans,
 * null, arrays and plain objects round-trip). A format tag travels with the
 * bytes, as the client's flags field does on the wire.
 */
import { CacheInputError } from './errors.js';

export type ValueFormat = 'buffer' | 'string' | 'json';

export interface EncodedValue {
  readonly format: ValueFormat;
  readonly bytes: Buffer;
}

/**
 * The format of items memcached itself creates with client flags 0: lease
 * placeholders (`mg … N`) and counters created through `ma … N J<initial>`.
 * They read back as Buffers, as the client decodes flags 0 (`FLAG_BYTES`
 * in `serializer.ts`).
 */
export const SERVER_CREATED_FORMAT: ValueFormat = 'buffer';

/**
 * Serializes a value (always into fresh bytes).
 * @throws CacheInputError for values JSON cannot carry (undefined, functions,
 *   symbols, bigints, cycles).
 */
export function encodeValue(value: unknown): EncodedValue {
  // Any Uint8Array is bytes (as the client sends it); a copy either way.
  if (value instanceof Uint8Array) return { format: 'buffer', bytes: Buffer.from(value) };
  if (typeof value === 'string') return { format: 'string', bytes: Buffer.from(value, 'utf8') };
  let text: string | undefined;
  try {
    text = JSON.stringify(value) as string | undefined;
  } catch (cause) {
    throw new CacheInputError('value cannot be serialized as JSON', { cause });
  }
  if (text === undefined) {
    throw new CacheInputError(`a value of type ${typeof value} cannot be cached`);
  }
  return { format: 'json', bytes: Buffer.from(text, 'utf8') };
}

/**
 * Deserializes stored bytes into a fresh value.
 * @throws CacheInputError if JSON bytes no longer parse (e.g. after `append`).
 */
export function decodeValue(format: ValueFormat, bytes: Buffer): unknown {
  switch (format) {
    case 'buffer':
      return Buffer.from(bytes);
    case 'string':
      return bytes.toString('utf8');
    case 'json':
      try {
        return JSON.parse(bytes.toString('utf8')) as unknown;
      } catch (cause) {
        throw new CacheInputError('stored value is not valid JSON any more', { cause });
      }
  }
}

/** The bytes `append`/`prepend` add: strings as UTF-8, Buffers as they are. */
export function dataBytes(data: string | Buffer): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  throw new CacheInputError('append/prepend data must be a string or a Buffer');
}
