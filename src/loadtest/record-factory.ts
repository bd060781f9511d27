/**
 * BSOs as a Firefox client uploads them, shaped like Mozilla's sync load
 * test: random ids, payloads of heavy-tailed length (Pareto, shape 3, scale
 * 300 bytes: min 300, mean 450, capped at 7000). Payload text is a window of
 * a random pool behind a unique prefix, so every payload is distinct (the
 * ledger tells writes apart by payload hash) without generating fresh
 * random text per record.
 */
import type { RandomSource } from './random-source.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const POOL_BYTES = 16_384;
const MAX_PAYLOAD = 7000;

export interface RecordOut {
  id: string;
  payload: string;
}

export class RecordFactory {
  private readonly pool: string;
  private counter = 0;

  constructor(private readonly random: RandomSource) {
    let pool = '';
    for (let i = 0; i < POOL_BYTES; i++) pool += ALPHABET[random.int(0, ALPHABET.length - 1)];
    this.pool = pool;
  }

  /** A fresh id: 12 random characters and a counter (BSO ids: printable ASCII, ≤ 64). */
  id(): string {
    let id = '';
    for (let i = 0; i < 12; i++) id += ALPHABET[this.random.int(0, ALPHABET.length - 1)];
    return id + (this.counter++).toString(36);
  }

  /** Heavy-tailed payload length, bytes. */
  payloadLength(): number {
    return Math.min(Math.floor(this.random.pareto(3) * 300), MAX_PAYLOAD);
  }

  /** A distinct payload of `length` bytes (at least the unique prefix). */
  payload(length = this.payloadLength()): string {
    const prefix = `${(this.counter++).toString(36)}.`;
    const rest = Math.max(0, length - prefix.length);
    const start = this.random.int(0, POOL_BYTES - rest);
    return prefix + this.pool.slice(start, start + rest);
  }

  /** `count` new records. */
  records(count: number): RecordOut[] {
    const out: RecordOut[] = [];
    for (let i = 0; i < count; i++) out.push({ id: this.id(), payload: this.payload() });
    return out;
  }
}
