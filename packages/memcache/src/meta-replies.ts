/**
 * What each meta answer means for a `CacheStore` call (protocol.txt "Meta
 * Commands": VA value, HD done, EN miss, NF not found, NS not stored, EX CAS
 * mismatch; W/X/Z win/stale/win-taken flags). The readers are shared arrow
 * functions, so a request allocates no closure for them.
 */
import type { CasToken, LeaseResult, ValueWithCas } from './cache-store.js';
import { CacheProtocolError } from './errors.js';
import { isPlaceholder, metaFlag, metaFlagNumber } from './meta-command.js';
import type { ValueCodec } from './serializer.js';

function casOf(line: string): CasToken | undefined {
  const token = metaFlag(line, 'c');
  return token === undefined ? undefined : BigInt(token);
}

export class MetaReplies {
  constructor(readonly codec: ValueCodec) {}

  /** `mg … v f`: the decoded value; a miss or a lease placeholder is undefined. */
  readonly value = (status: string, line: string, data: Buffer | undefined): unknown => {
    if (status === 'VA' && data !== undefined) {
      if (isPlaceholder(line, data)) return undefined;
      return this.codec.decode(data, metaFlagNumber(line, 'f'));
    }
    if (status === 'EN') return undefined;
    throw new CacheProtocolError(`unexpected answer to mg: ${line}`);
  };

  /** `mg … v f c`: value and CAS token, or undefined. */
  readonly valueWithCas = (
    status: string,
    line: string,
    data: Buffer | undefined,
  ): ValueWithCas<unknown> | undefined => {
    if (status === 'EN' || (data !== undefined && isPlaceholder(line, data))) return undefined;
    const value = this.value(status, line, data);
    return { value, cas: casOf(line) ?? 0n };
  };

  /** HD is yes; NS (not stored), EX (CAS mismatch), NF/EN (missing) are no. */
  readonly done = (status: string, line: string): boolean => {
    if (status === 'HD') return true;
    if (status === 'NS' || status === 'EX' || status === 'NF' || status === 'EN') return false;
    throw new CacheProtocolError(`unexpected answer: ${line}`);
  };

  /** `mg … N R v f c t`: the stampede-protection view of the item. */
  readonly lease = (
    status: string,
    line: string,
    data: Buffer | undefined,
  ): LeaseResult<unknown> => {
    const flags = readLeaseFlags(line);
    const result: LeaseResult<unknown> = {
      value: undefined,
      cas: undefined,
      win: flags.win,
      stale: flags.stale,
      winnerPending: flags.winnerPending,
      ttlRemaining: undefined,
    };
    if (status === 'EN' || data === undefined) return result;
    // The same rule as isPlaceholder, from the flags read in the one pass.
    const placeholder =
      data.length === 0 &&
      flags.clientFlags === 0 &&
      !flags.stale &&
      (flags.winnerPending || flags.win);
    if (!placeholder) result.value = this.codec.decode(data, flags.clientFlags);
    if (flags.casAt !== -1) {
      const end = line.indexOf(' ', flags.casAt);
      result.cas = BigInt(end === -1 ? line.slice(flags.casAt) : line.slice(flags.casAt, end));
    }
    result.ttlRemaining = flags.ttl;
    return result;
  };

  /** `ma … v`: the counter's new value; a miss (NF) is undefined. */
  readonly counter = (
    status: string,
    line: string,
    data: Buffer | undefined,
  ): number | undefined => {
    if (status === 'VA' && data !== undefined) return Number(data.toString('latin1').trim());
    if (status === 'NF' || status === 'NS' || status === 'EX') return undefined;
    throw new CacheProtocolError(`unexpected answer to ma: ${line}`);
  };
}

/** The flags of a lease answer, read in one pass (the module keeps one: no allocation per answer). */
const leaseFlags = {
  win: false,
  stale: false,
  winnerPending: false,
  clientFlags: 0,
  /** Where the `c` flag's token starts in the line, -1 when absent. */
  casAt: -1,
  ttl: undefined as number | undefined,
};

/**
 * One pass over a lease's response line for W, X, Z, f, c and t — the hit
 * path of getOrSet, where the line was scanned nine times before (three
 * `hasMetaFlag`s, the placeholder test's four, then f, c and t).
 */
function readLeaseFlags(line: string): typeof leaseFlags {
  const flags = leaseFlags;
  flags.win = flags.stale = flags.winnerPending = false;
  flags.clientFlags = 0;
  flags.casAt = -1;
  flags.ttl = undefined;
  for (let at = line.indexOf(' '); at !== -1; at = line.indexOf(' ', at + 1)) {
    const flag = line.charCodeAt(at + 1);
    if (flag === 0x57 /* W */) flags.win = true;
    else if (flag === 0x58 /* X */) flags.stale = true;
    else if (flag === 0x5a /* Z */) flags.winnerPending = true;
    else if (flag === 0x66 /* f */) flags.clientFlags = digitsAt(line, at + 2);
    else if (flag === 0x63 /* c */) flags.casAt = at + 2;
    else if (flag === 0x74 /* t */) {
      // protocol.txt: "t: return item TTL remaining in seconds (-1 for unlimited)".
      flags.ttl =
        line.charCodeAt(at + 2) === 0x2d ? -digitsAt(line, at + 3) : digitsAt(line, at + 2);
    }
  }
  return flags;
}

/** The decimal number starting at `from` in `line` (0 when there are no digits). */
function digitsAt(line: string, from: number): number {
  let value = 0;
  for (let i = from; i < line.length; i++) {
    const digit = line.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}
