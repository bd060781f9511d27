/**
 * `incr`/`decr` arithmetic with memcached's rules (protocol.txt, "Increment/
 * Decrement"; `do_add_delta` in memcached 1.6): the item's bytes must be an
 * unsigned 64-bit decimal, incr wraps around at 2^64, decr stops at 0, and a
 * result shorter than the stored number is written in place, padded with
 * spaces to the old length (a decr from "10" stores "9 ").
 */
import { CacheInputError } from './errors.js';

const U64_MAX = (1n << 64n) - 1n;
const U64_MOD = 1n << 64n;

// memcached parses with strtoull: optional leading whitespace and '+', digits,
// then the end of the value or whitespace. A '-' is refused (strtoull would
// silently wrap it; memcached refuses the wrapped values, so only "-0" differs).
// At least one digit is required: on a blank value memcached's strtoull runs
// past the item's "\r\n" into whatever memory follows, which is no rule to copy.
const DECIMAL = /^[ \t\n\v\f\r]*\+?(\d+)(?:[ \t\n\v\f\r]|$)/;

/** The counter in `bytes`, or undefined if memcached would call it non-numeric. */
export function parseCounter(bytes: Buffer): bigint | undefined {
  const match = DECIMAL.exec(bytes.toString('latin1'));
  if (!match?.[1]) return undefined;
  const value = BigInt(match[1]);
  return value > U64_MAX ? undefined : value;
}

/**
 * Checks a delta or an initial value: an integer in 0 .. 2^64-1.
 * @throws CacheInputError otherwise.
 */
export function toUnsigned64(n: number, what: string): bigint {
  if (!Number.isInteger(n) || n < 0 || BigInt(n) > U64_MAX) {
    throw new CacheInputError(`${what} must be an integer between 0 and 2^64-1, got ${String(n)}`);
  }
  return BigInt(n);
}

/** incr wraps at 2^64; decr floors at 0. */
export function applyDelta(current: bigint, delta: bigint, increment: boolean): bigint {
  if (increment) return (current + delta) % U64_MOD;
  return current > delta ? current - delta : 0n;
}

/** The bytes memcached stores for `value` over the previous `old` bytes. */
export function counterBytes(old: Buffer, value: bigint): Buffer {
  const digits = Buffer.from(value.toString(), 'latin1');
  if (digits.length >= old.length) return digits;
  const padded = Buffer.alloc(old.length, 0x20);
  digits.copy(padded);
  return padded;
}
