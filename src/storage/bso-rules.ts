/**
 * What makes a collection name, an item id and a BSO valid (API 1.5), in one
 * place. The HTTP layer checks a BSO once (`checkBso`) and hands the checked
 * BSO down (`checked-bso.ts`); storage backends check only BSOs that did not
 * come that way (`input-checks.ts`, same rules), so a library user of
 * `SyncStorage` gets the same guarantees.
 */
import { markChecked, type CheckedBso } from './checked-bso.js';
import type { BsoInput } from './sync-storage.js';

export const COLLECTION_NAME = /^[a-zA-Z0-9._-]{1,32}$/;
/** Printable ASCII, 1–64 characters (so no trailing newline either). */
export const BSO_ID = /^[ -~]{1,64}$/;

export const MAX_SORTINDEX = 999_999_999;
export const MAX_TTL_SECONDS = 999_999_999;
/** Default max payload bytes (syncstorage-rs `max_record_payload_bytes`). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 2_621_440;

export function isValidCollectionName(name: unknown): name is string {
  return typeof name === 'string' && COLLECTION_NAME.test(name);
}

export function isValidBsoId(id: unknown): id is string {
  return typeof id === 'string' && BSO_ID.test(id);
}

// Safe integers, not merely integers: the bounds make the two agree today,
// but a sortindex or ttl is stored as an exact integer (SQL BIGINT/INTEGER),
// and only a safe integer is one exactly (2**53 + 1 parses to 2**53).
export function isValidSortindex(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && Math.abs(n) <= MAX_SORTINDEX;
}

export function isValidTtl(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= MAX_TTL_SECONDS;
}

const BSO_FIELDS = new Set(['id', 'payload', 'sortindex', 'ttl', 'modified']);

export type BsoCheck = { ok: true; bso: CheckedBso } | { ok: false; reason: string };

/**
 * Validate one BSO object from a client. `modified` is accepted and ignored
 * (the server sets it); any other unknown field is invalid. `requireId` is
 * false for PUT, where the id comes from the URL.
 */
export function checkBso(
  input: unknown,
  options: { maxPayloadBytes?: number; requireId?: boolean } = {},
): BsoCheck {
  const { maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES, requireId = true } = options;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, reason: 'invalid bso: not an object' };
  }
  const record = input as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    if (!BSO_FIELDS.has(field)) return { ok: false, reason: `invalid bso: unknown field ${field}` };
  }
  const bso: BsoInput = { id: '' };
  let payloadBytes = 0;
  if ('id' in record) {
    if (!isValidBsoId(record.id)) return { ok: false, reason: 'invalid id' };
    bso.id = record.id;
  } else if (requireId) {
    return { ok: false, reason: 'invalid id' };
  }
  if ('payload' in record) {
    if (typeof record.payload !== 'string') return { ok: false, reason: 'invalid payload' };
    payloadBytes = Buffer.byteLength(record.payload, 'utf8');
    if (payloadBytes > maxPayloadBytes) return { ok: false, reason: 'payload too large' };
    bso.payload = record.payload;
  }
  if ('sortindex' in record && record.sortindex !== null) {
    if (!isValidSortindex(record.sortindex)) return { ok: false, reason: 'invalid sortindex' };
    bso.sortindex = record.sortindex;
  }
  if ('ttl' in record && record.ttl !== null) {
    if (!isValidTtl(record.ttl)) return { ok: false, reason: 'invalid ttl' };
    bso.ttl = record.ttl;
  }
  return { ok: true, bso: markChecked(bso, payloadBytes) };
}
