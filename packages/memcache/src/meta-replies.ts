/**
 * What each meta answer means for a `CacheStore` call (protocol.txt "Meta
 * Commands": VA value, HD done, EN miss, NF not found, NS not stored, EX CAS
 * mismatch; W/X/Z win/stale/win-taken flags). The readers are shared arrow
 * functions, so a request allocates no closure for them.
 */
import type { CasToken, LeaseResult, ValueWithCas } from './cache-store.js';
import { CacheProtocolError } from './errors.js';
import { hasMetaFlag, isPlaceholder, metaFlag, metaFlagNumber } from './meta-command.js';
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
    const win = hasMetaFlag(line, 'W');
    const stale = hasMetaFlag(line, 'X');
    const winnerPending = hasMetaFlag(line, 'Z');
    if (status === 'EN' || data === undefined) {
      return {
        value: undefined,
        cas: undefined,
        win,
        stale,
        winnerPending,
        ttlRemaining: undefined,
      };
    }
    const ttl = metaFlag(line, 't');
    return {
      value: isPlaceholder(line, data)
        ? undefined
        : this.codec.decode(data, metaFlagNumber(line, 'f')),
      cas: casOf(line),
      win,
      stale,
      winnerPending,
      ttlRemaining: ttl === undefined ? undefined : Number(ttl),
    };
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
