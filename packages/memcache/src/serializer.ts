/**
 * Value encoding. Buffers pass through untouched, strings are stored as UTF-8
 * (so `append`/`prepend` of text keeps a string a string), everything else goes
 * through a pluggable `Serializer` (JSON by default). memcached's 32-bit client
 * flags (protocol.txt "Storage commands", meta flag `F`) record which, so a value
 * comes back with the type it was stored with.
 */
import { CacheInputError } from './errors.js';

/**
 * Client flags the codec owns; a custom serializer must use another number.
 * 0 is left to bytes this client did not type: items other clients wrote,
 * counters memcached created itself (`ma … N`), and vivified placeholders.
 */
export const FLAG_UNTYPED = 0;
export const FLAG_STRING = 1;
export const FLAG_JSON = 2;
export const FLAG_BUFFER = 3;

/** Turns non-Buffer, non-string values into bytes and back. */
export interface Serializer {
  /** The client flags value stored with items this serializer wrote (not 0, 1 or 3). */
  readonly flag: number;
  /** Bytes for `value`. Throws if the value cannot be represented. */
  serialize(value: unknown): Buffer;
  /** The value back from its bytes. Throws if the bytes are not its format. */
  deserialize(data: Buffer): unknown;
}

/** JSON through `JSON.stringify`/`JSON.parse`; `null` round-trips, `undefined` does not. */
export const jsonSerializer: Serializer = {
  flag: FLAG_JSON,
  serialize(value: unknown): Buffer {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`${typeof value} has no JSON form`);
    return Buffer.from(text, 'utf8');
  },
  deserialize(data: Buffer): unknown {
    return JSON.parse(data.toString('utf8')) as unknown;
  },
};

export interface EncodedValue {
  readonly data: Buffer;
  readonly flags: number;
}

/** Encodes values for storage and decodes stored bytes by their client flags. */
export class ValueCodec {
  constructor(private readonly serializer: Serializer = jsonSerializer) {
    if ([FLAG_UNTYPED, FLAG_STRING, FLAG_BUFFER].includes(serializer.flag)) {
      throw new CacheInputError(
        `serializer flag ${serializer.flag} is reserved (0 untyped, 1 string, 3 Buffer)`,
      );
    }
  }

  /** Bytes and flags for `value`; a value the serializer refuses is a `CacheInputError`. */
  encode(value: unknown): EncodedValue {
    if (Buffer.isBuffer(value)) return { data: value, flags: FLAG_BUFFER };
    if (typeof value === 'string') return { data: Buffer.from(value, 'utf8'), flags: FLAG_STRING };
    if (value instanceof Uint8Array) {
      return {
        data: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
        flags: FLAG_BUFFER,
      };
    }
    try {
      return { data: this.serializer.serialize(value), flags: this.serializer.flag };
    } catch (cause) {
      throw new CacheInputError(`value cannot be serialized: ${String(cause)}`, { cause });
    }
  }

  /** Raw bytes for `append`/`prepend`, which extend stored bytes as they are. */
  encodeRaw(data: string | Buffer): Buffer {
    return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  }

  /**
   * The value for stored `data`. Untyped or unknown flags (items written by
   * memcached itself or other clients) come back as a Buffer rather than a guess.
   * `data` must belong to the caller (the parser hands out copies or views of
   * reads nothing reuses), so Buffers are returned as they are.
   */
  decode(data: Buffer, flags: number): unknown {
    if (flags === FLAG_STRING) return data.toString('utf8');
    if (flags === this.serializer.flag) {
      try {
        return this.serializer.deserialize(data);
      } catch (cause) {
        throw new CacheInputError(`stored value cannot be decoded: ${String(cause)}`, { cause });
      }
    }
    return data;
  }
}
