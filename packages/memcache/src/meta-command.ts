/**
 * Requests as objects that own their promise (the ioredis `Command` pattern):
 * a command knows its wire bytes, consumes the responses addressed to it, and
 * settles itself. A connection keeps commands in send order and hands each
 * response to the oldest unfinished one (memcached answers in order,
 * protocol.txt "Commands"); the meta opaque token (`O`) is checked on the way
 * so a desynchronised stream is detected instead of answering the wrong caller.
 */
import { CacheError, CacheInputError, CacheProtocolError, ValueTooLargeError } from './errors.js';

/** What a connection needs of a command, whatever its result type. */
export interface QueuedCommand {
  readonly head: string;
  readonly data: Buffer | undefined;
  deadline: number;
  readonly settled: boolean;
  onResponse(line: string, data: Buffer | undefined): boolean;
  reject(error: Error): void;
}

export abstract class MetaCommand<T = unknown> implements QueuedCommand {
  readonly promise: Promise<T>;
  /** Text part of the request (ASCII, ends in \r\n). */
  abstract readonly head: string;
  /** Data block sent after `head`, followed by \r\n (storage commands). */
  readonly data: Buffer | undefined = undefined;
  /** ms since epoch after which the caller gets a `CacheTimeoutError` (set on enqueue). */
  deadline = 0;
  /** Settled (answered, failed, or timed out while its answer may still arrive). */
  settled = false;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (error: Error) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
  }

  /**
   * Consume one response (its header line and, for `VA`, its data). Returns
   * true when this command expects nothing more. Throws `CacheProtocolError`
   * when the response cannot be for this command: the stream is out of step.
   */
  abstract onResponse(line: string, data: Buffer | undefined): boolean;

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveFn(value);
  }

  reject(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectFn(error);
  }
}

let nextOpaque = 1;
/** Opaque tokens only need to be distinct among the requests in flight. */
export function takeOpaque(): number {
  const opaque = nextOpaque;
  nextOpaque = nextOpaque >= 0x7fffffff ? 1 : nextOpaque + 1;
  return opaque;
}

/** The token of meta flag `flag` in a response line ("VA 3 f5 c9" → f → "5"), or undefined. */
export function metaFlag(line: string, flag: string): string | undefined {
  const at = line.indexOf(` ${flag}`);
  if (at === -1) return undefined;
  const end = line.indexOf(' ', at + 2);
  return end === -1 ? line.slice(at + 2) : line.slice(at + 2, end);
}

/** The numeric token of meta flag `flag` (client flags `f`), 0 when absent; no allocation. */
export function metaFlagNumber(line: string, flag: string): number {
  const at = line.indexOf(` ${flag}`);
  if (at === -1) return 0;
  let value = 0;
  for (let i = at + 2; i < line.length; i++) {
    const digit = line.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}

const STATUSES = ['VA', 'HD', 'EN', 'NF', 'NS', 'EX', 'MN'];

/** The two-letter meta status of a response line, as a shared constant string. */
export function statusOf(line: string): string {
  for (const status of STATUSES) if (line.startsWith(status)) return status;
  return line.slice(0, 2);
}

/** True when the response line carries the token-less meta flag `flag` (W, X, Z). */
export function hasMetaFlag(line: string, flag: string): boolean {
  const at = line.indexOf(` ${flag}`);
  if (at === -1) return false;
  const after = line.charCodeAt(at + 2);
  return Number.isNaN(after) || after === 0x20;
}

/**
 * A placeholder vivified by a lease (`mg … N`): an empty item with client
 * flags 0 whose win is taken (Z) or being handed out (W), and not invalidated
 * (X). It is no value: reads report a miss. This client never stores an empty
 * value with flags 0 (an empty Buffer has its own flag, `FLAG_EMPTY_BYTES`), so nothing real matches.
 */
export function isPlaceholder(line: string, data: Buffer): boolean {
  return (
    data.length === 0 &&
    (metaFlag(line, 'f') ?? '0') === '0' &&
    !hasMetaFlag(line, 'X') &&
    (hasMetaFlag(line, 'Z') || hasMetaFlag(line, 'W'))
  );
}

/** The error for memcached's generic error lines (protocol.txt "Error strings"), else undefined. */
export function errorLine(line: string): CacheError | undefined {
  // Fast exit for the meta statuses (VA, HD, EN, NF, NS, EX, MN): no error line
  // is two letters long before a space or the end.
  const third = line.charCodeAt(2);
  if (third === 0x20 || Number.isNaN(third)) return undefined;
  if (line.startsWith('CLIENT_ERROR')) {
    if (line.includes('non-numeric')) {
      return new CacheInputError(`memcached: ${line.slice(13)}`);
    }
    return new CacheProtocolError(`memcached refused the request: ${line}`);
  }
  if (line.startsWith('SERVER_ERROR') || line === 'ERROR' || line.startsWith('ERROR ')) {
    return new CacheProtocolError(`memcached: ${line}`);
  }
  return undefined;
}

/**
 * A meta command (`mg`, `ms`, `md`, `ma`) with one response, interpreted by
 * `interpret` from the response's status and line. Error lines reject.
 */
export class MetaRequest<T> extends MetaCommand<T> {
  readonly head: string;
  override readonly data: Buffer | undefined;
  /** " O<n>": memcached echoes flags in request order, so the answer usually ends with it. */
  private readonly opaqueSuffix: string;

  constructor(
    line: string,
    private readonly interpret: (status: string, line: string, data: Buffer | undefined) => T,
    data?: Buffer,
  ) {
    super();
    this.opaqueSuffix = ` O${takeOpaque()}`;
    this.head = `${line}${this.opaqueSuffix}\r\n`;
    this.data = data;
  }

  onResponse(line: string, data: Buffer | undefined): boolean {
    if (line.endsWith(this.opaqueSuffix)) {
      try {
        this.resolve(this.interpret(statusOf(line), line, data));
      } catch (error) {
        this.reject(error instanceof Error ? error : new CacheProtocolError(String(error)));
      }
      return true;
    }
    return this.onOtherResponse(line, data);
  }

  /** Error lines, and answers whose opaque is not last (W/X/Z flags follow it) or wrong. */
  private onOtherResponse(line: string, data: Buffer | undefined): boolean {
    const error = errorLine(line);
    if (error) {
      if (this.data !== undefined && line.includes('too large')) {
        // The server's -I is below maxValueSize; memcached swallowed the data.
        this.reject(
          new ValueTooLargeError(
            this.data.length,
            -1,
            `memcached refused a value of ${this.data.length} bytes: ${line} (its -I item size is below option maxValueSize)`,
          ),
        );
      } else this.reject(error);
      return true;
    }
    if (` O${metaFlag(line, 'O')}` !== this.opaqueSuffix) {
      throw new CacheProtocolError(
        `response ${JSON.stringify(line.slice(0, 80))} does not carry opaque${this.opaqueSuffix}`,
      );
    }
    try {
      this.resolve(this.interpret(statusOf(line), line, data));
    } catch (error) {
      this.reject(error instanceof Error ? error : new CacheProtocolError(String(error)));
    }
    return true;
  }
}

/** A classic text command with a one-line answer (`version`, `flush_all`, the auth `set`). */
export class TextRequest<T> extends MetaCommand<T> {
  override readonly data: Buffer | undefined;

  constructor(
    readonly head: string,
    private readonly interpret: (line: string) => T,
    data?: Buffer,
  ) {
    super();
    this.data = data;
  }

  onResponse(line: string, data: Buffer | undefined): boolean {
    if (data !== undefined)
      throw new CacheProtocolError(`unexpected value for ${this.head.trim()}`);
    const error = errorLine(line);
    if (error) this.reject(error);
    else {
      try {
        this.resolve(this.interpret(line));
      } catch (failure) {
        this.reject(failure instanceof Error ? failure : new CacheProtocolError(String(failure)));
      }
    }
    return true;
  }
}

/** `stats`: "STAT <name> <value>" lines until "END". */
export class StatsRequest extends MetaCommand<Record<string, string>> {
  readonly head = 'stats\r\n';
  private readonly stats: Record<string, string> = {};

  onResponse(line: string, data: Buffer | undefined): boolean {
    if (data === undefined && line.startsWith('STAT ')) {
      const space = line.indexOf(' ', 5);
      if (space === -1) this.stats[line.slice(5)] = '';
      else this.stats[line.slice(5, space)] = line.slice(space + 1);
      return false;
    }
    if (line === 'END') this.resolve(this.stats);
    else this.reject(errorLine(line) ?? new CacheProtocolError(`unexpected stats line ${line}`));
    return true;
  }
}

/**
 * `getMulti` for one server: quiet `mg … q` per key (hits answer, misses stay
 * silent; protocol.txt meta "q" flag) ended by `mn`, whose `MN` closes the
 * batch. The opaque of each line is its position in the batch.
 */
export class BatchGetRequest extends MetaCommand<Array<Buffer | undefined>> {
  readonly head: string;
  private readonly values: Array<Buffer | undefined>;
  private readonly flags: number[];
  private error: Error | undefined;

  constructor(tokens: ReadonlyArray<{ token: string; binary: boolean }>) {
    super();
    let head = '';
    for (let i = 0; i < tokens.length; i++) {
      const key = tokens[i] as { token: string; binary: boolean };
      head += `mg ${key.token}${key.binary ? ' b' : ''} v f q O${i}\r\n`;
    }
    this.head = `${head}mn\r\n`;
    this.values = new Array<Buffer | undefined>(tokens.length);
    this.flags = new Array<number>(tokens.length).fill(0);
  }

  /** Client flags of the value at `index` (valid once resolved). */
  flagsAt(index: number): number {
    return this.flags[index] ?? 0;
  }

  onResponse(line: string, data: Buffer | undefined): boolean {
    if (line === 'MN') {
      if (this.error) this.reject(this.error);
      else this.resolve(this.values);
      return true;
    }
    const error = errorLine(line);
    if (error) {
      this.error ??= error;
      return false;
    }
    const index = Number(metaFlag(line, 'O'));
    if (!Number.isInteger(index) || index < 0 || index >= this.values.length) {
      throw new CacheProtocolError(`multi-get response with unknown opaque: ${line.slice(0, 80)}`);
    }
    if (line.startsWith('VA') && data !== undefined && !isPlaceholder(line, data)) {
      this.values[index] = data;
      this.flags[index] = metaFlagNumber(line, 'f');
    }
    return false;
  }
}
