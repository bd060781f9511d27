/**
 * Incremental parser of memcached responses. It knows the framing only
 * (protocol.txt: text lines end in \r\n; a meta `VA <size> <flags>*` line is
 * followed by <size> bytes of data and \r\n) and hands each complete response
 * — its header line and, for `VA`, its data — to `onResponse`, whatever the
 * TCP segmentation: one byte per read or many responses in one read.
 */
import { CacheProtocolError } from './errors.js';

/** Buffer's own latin1 decoder, skipping `toString`'s argument handling on the hot path. */
interface Latin1Sliceable {
  latin1Slice(start: number, end: number): string;
}

const CR = 0x0d;
const LF = 0x0a;
/** No memcached response line is near this long; a longer one means garbage. */
const MAX_LINE_BYTES = 8192;

/** Values up to this size are copied out of the read buffer; larger ones are views of it. */
const COPY_VALUE_BYTES = 4096;

/**
 * Receives each response. `data` belongs to the receiver: it is a copy, or a
 * view of a read buffer that nothing else writes to.
 */
export type ResponseHandler = (line: string, data: Buffer | undefined) => void;

export class MetaParser {
  /** Unconsumed bytes from earlier reads, joined only once enough has arrived. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** Header of a `VA` whose data has not fully arrived yet. */
  private valueLine: string | undefined;
  private valueSize = 0;

  constructor(private readonly onResponse: ResponseHandler) {}

  /** Feed the next chunk read from the socket. Throws `CacheProtocolError` on bad framing. */
  feed(chunk: Buffer): void {
    if (this.partsLength > 0) {
      this.parts.push(chunk);
      this.partsLength += chunk.length;
      // A large value arrives in many reads: wait for all of it before joining.
      if (this.valueLine !== undefined && this.partsLength < this.valueSize + 2) return;
      chunk = Buffer.concat(this.parts, this.partsLength);
      this.parts = [];
      this.partsLength = 0;
    }
    const buf = chunk;
    let pos = 0;
    for (;;) {
      if (this.valueLine !== undefined) {
        const end = pos + this.valueSize;
        if (buf.length < end + 2) break;
        if (buf[end] !== CR || buf[end + 1] !== LF) {
          throw new CacheProtocolError('value data not terminated by \\r\\n');
        }
        const line = this.valueLine;
        this.valueLine = undefined;
        let data: Buffer;
        if (this.valueSize <= COPY_VALUE_BYTES) {
          // Small values are copied so they do not pin the whole socket read in memory.
          data = Buffer.allocUnsafe(this.valueSize);
          buf.copy(data, 0, pos, end);
        } else {
          data = buf.subarray(pos, end);
        }
        this.onResponse(line, data);
        pos = end + 2;
        continue;
      }
      const nl = buf.indexOf(LF, pos);
      if (nl === -1) {
        if (buf.length - pos > MAX_LINE_BYTES) {
          throw new CacheProtocolError('response line too long');
        }
        break;
      }
      if (nl === pos || buf[nl - 1] !== CR)
        throw new CacheProtocolError('line not ended by \\r\\n');
      const line = (buf as unknown as Latin1Sliceable).latin1Slice(pos, nl - 1);
      pos = nl + 1;
      if (
        line.charCodeAt(0) === 0x56 &&
        line.charCodeAt(1) === 0x41 &&
        line.charCodeAt(2) === 0x20
      ) {
        // "VA <size> ..."
        const sizeEnd = line.indexOf(' ', 3);
        const size = Number(sizeEnd === -1 ? line.slice(3) : line.slice(3, sizeEnd));
        if (!Number.isSafeInteger(size) || size < 0) {
          throw new CacheProtocolError(`bad value size in ${JSON.stringify(line)}`);
        }
        this.valueLine = line;
        this.valueSize = size;
        continue;
      }
      this.onResponse(line, undefined);
    }
    if (pos < buf.length) {
      this.parts.push(pos === 0 ? buf : buf.subarray(pos));
      this.partsLength = buf.length - pos;
    }
  }

  /** Forget buffered bytes (after the connection is replaced). */
  reset(): void {
    this.parts = [];
    this.partsLength = 0;
    this.valueLine = undefined;
    this.valueSize = 0;
  }
}
