/**
 * Sync timestamps: integer milliseconds inside (always a multiple of 10),
 * seconds with exactly two decimals on the wire (API 1.5).
 */

/** The current time, rounded down to 10 ms. */
export function nowMs(clock: () => number = Date.now): number {
  return Math.floor(clock() / 10) * 10;
}

/** 1700000000120 → "1700000000.12". */
export function toWire(ms: number): string {
  const centis = Math.floor(ms / 10);
  const whole = Math.floor(centis / 100);
  const frac = centis % 100;
  return `${whole}.${frac < 10 ? '0' : ''}${frac}`;
}

const WIRE_TIMESTAMP = /^\d{1,12}(\.\d{1,9})?$/;

/**
 * "1700000000.12" → 1700000000120. Accepts up to nine decimals (clients echo
 * what they were given; a few send more digits); returns undefined for
 * anything that is not a non-negative decimal number.
 */
export function fromWire(text: string): number | undefined {
  if (!WIRE_TIMESTAMP.test(text)) return undefined;
  const [whole, frac = ''] = text.split('.') as [string, string?];
  const ms = Number(whole) * 1000 + Number((frac + '000').slice(0, 3));
  return Number.isSafeInteger(ms) ? ms : undefined;
}
