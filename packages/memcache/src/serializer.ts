/**
 * Value encoding and memcached's 32-bit client flags (protocol.txt "Storage
 * commands", meta flag `F`), chosen so other languages' clients read what
 * this one writes — and never read it as something executable:
 *
 * | value            | flags | pylibmc / python-memcached | PHP memcached (ext)        |
 * | ---------------- | ----- | -------------------------- | -------------------------- |
 * | Buffer / bytes   | 0 (empty: 65536) | `bytes`         | string                     |
 * | string (UTF-8)   | 16    | `str` (FLAG_TEXT, 1 << 4)  | unreadable: 16 is its "compressed" bit → use `stringFlag: 0` |
 * | other (JSON)     | 6     | error "unknown flags 6"    | decoded JSON (MEMC_VAL_IS_JSON) |
 *
 * Read only: flags 2 is JSON as this client wrote it before 0.2 (and Python's
 * integer/bool, decimal text, which JSON reads as the same number), so
 * entries written by an older version — cache-only collections live only in
 * memcached — stay readable.
 *
 * Flag 1 is Python's pickle: pylibmc and python-memcached unpickle it, so
 * text stored under it raises in Python and a string that happens to be a
 * valid pickle would run code there. This client never writes 1 and reads
 * it (and any flags it does not own) as raw bytes. Sources: pylibmc
 * `_pylibmcmodule.h` (PYLIBMC_FLAG_*), python-memcached `memcache.py`
 * (`_FLAG_*`), php-memcached `php_memcached_private.h` (MEMC_VAL_*: type in
 * the low 4 bits, its own flags in bits 4–15, user flags above).
 */
import { CacheInputError } from './errors.js';

/** Bytes: what every client reads as bytes (PHP: string). Also items memcached itself creates. */
export const FLAG_BYTES = 0;
/**
 * Zero-length bytes: above every bit pylibmc, python-memcached and PHP read
 * (all three see plain empty bytes), so a lease's placeholder — empty, flags
 * 0, memcached's own — is never mistaken for a stored empty Buffer
 * (`isPlaceholder` in meta-command.ts).
 */
export const FLAG_EMPTY_BYTES = 1 << 16;
/** Python's pickle. Never written; read as bytes. */
export const FLAG_PICKLE = 1;
/** UTF-8 text: pylibmc ≥ 1.6 `PYLIBMC_FLAG_TEXT`, python-memcached `_FLAG_TEXT`. */
export const FLAG_TEXT = 16;
/** JSON: php-memcached `MEMC_VAL_IS_JSON`. The default serializer's flag. */
export const FLAG_JSON = 6;
/** Read only: this client's JSON before 0.2; Python's integer (decimal text). */
export const FLAG_LEGACY_JSON = 2;

/** Turns non-Buffer, non-string values into bytes and back. */
export interface Serializer {
  /**
   * The client flags stored with items this serializer wrote. Not 0 (bytes),
   * 1 (pickle) or the string flag; prefer a value no other client misreads
   * (16 bits or above are free in all three conventions above).
   */
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

export interface ValueCodecOptions {
  serializer?: Serializer;
  /**
   * Flags of strings: 16 (default, Python's text flag) or 0 (plain bytes,
   * what PHP reads as a string; this client then reads strings back as Buffers).
   */
  stringFlag?: typeof FLAG_TEXT | typeof FLAG_BYTES;
}

function bytesFlag(data: Buffer): number {
  return data.length === 0 ? FLAG_EMPTY_BYTES : FLAG_BYTES;
}

/** Encodes values for storage and decodes stored bytes by their client flags. */
export class ValueCodec {
  private readonly serializer: Serializer;
  private readonly stringFlag: number;

  constructor(options: ValueCodecOptions = {}) {
    this.serializer = options.serializer ?? jsonSerializer;
    this.stringFlag = options.stringFlag ?? FLAG_TEXT;
    if (this.stringFlag !== FLAG_TEXT && this.stringFlag !== FLAG_BYTES) {
      throw new CacheInputError(`stringFlag must be 16 or 0, got ${String(options.stringFlag)}`);
    }
    const flag = this.serializer.flag;
    if (!Number.isInteger(flag) || flag < 0 || flag > 0xffffffff) {
      throw new CacheInputError(`serializer flag must be a 32-bit unsigned integer, got ${flag}`);
    }
    if ([FLAG_BYTES, FLAG_PICKLE, FLAG_TEXT, FLAG_EMPTY_BYTES].includes(flag)) {
      throw new CacheInputError(
        `serializer flag ${flag} is reserved (0 bytes, 1 Python pickle, 16 text, 65536 empty bytes)`,
      );
    }
  }

  /** Bytes and flags for `value`; a value the serializer refuses is a `CacheInputError`. */
  encode(value: unknown): EncodedValue {
    if (Buffer.isBuffer(value)) return { data: value, flags: bytesFlag(value) };
    if (typeof value === 'string') {
      return { data: Buffer.from(value, 'utf8'), flags: this.stringFlag };
    }
    if (value instanceof Uint8Array) {
      const data = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      return { data, flags: bytesFlag(data) };
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
   * The value for stored `data`: text (16) as a string, the serializer's flag
   * through it, anything else — bytes, items memcached created, pickles and
   * other clients' types — as a Buffer rather than a guess (flags 2: JSON, above).
   * `data` must belong to the caller (the parser hands out copies or views of
   * reads nothing reuses), so Buffers are returned as they are.
   */
  decode(data: Buffer, flags: number): unknown {
    if (flags === FLAG_TEXT) return data.toString('utf8');
    if (flags === this.serializer.flag) return this.deserialize(this.serializer, data);
    if (flags === FLAG_LEGACY_JSON) return this.deserialize(jsonSerializer, data);
    return data;
  }

  private deserialize(serializer: Serializer, data: Buffer): unknown {
    try {
      return serializer.deserialize(data);
    } catch (cause) {
      throw new CacheInputError(`stored value cannot be decoded: ${String(cause)}`, { cause });
    }
  }
}
