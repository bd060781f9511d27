/** The short digest the ledger keeps per written payload (64 bits of SHA-256). */
import { createHash } from 'node:crypto';

export function payloadHash(payload: string): string {
  return createHash('sha256').update(payload).digest('hex').slice(0, 16);
}
