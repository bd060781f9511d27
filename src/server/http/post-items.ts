/**
 * Sorting a POSTed list into the items to write and the ones that failed
 * (API.md "BSOs", "Limits"): a body that is not a list, an item that is not
 * an object, or a missing/duplicate id fails the whole request (400, code 8);
 * one invalid item, or one past the per-POST record or byte limit, goes to
 * `failed` with its reason.
 */
import { checkBso } from '../../storage/bso-rules.js';
import { payloadByteLength, type CheckedBso } from '../../storage/checked-bso.js';
import type { Limits } from '../config/server-config.js';
import type { RequestBody } from '../content/body-parsers.js';
import { HttpError } from '../errors/weave-errors.js';

export interface SortedItems {
  /** Checked once here; storage neither re-validates nor re-measures them. */
  valid: CheckedBso[];
  failed: Record<string, string>;
}

export function sortPostedItems(body: RequestBody, limits: Limits): SortedItems {
  if (!Array.isArray(body.value)) throw new HttpError('INVALID_BSO', 'body is not a list');
  const seen = new Set<string>();
  const valid: CheckedBso[] = [];
  const failed: Record<string, string> = {};
  let bytes = 0;
  body.value.forEach((item: unknown, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new HttpError('INVALID_BSO', 'an item is not an object');
    }
    const { id } = item as { id?: unknown };
    if (typeof id !== 'string') throw new HttpError('INVALID_BSO', 'an item has no id');
    if (seen.has(id)) throw new HttpError('INVALID_BSO', 'duplicate id');
    seen.add(id);
    if (index >= limits.maxPostRecords) {
      failed[id] = 'retry bso';
      return;
    }
    const check = checkBso(item, { maxPayloadBytes: limits.maxRecordPayloadBytes });
    if (!check.ok) {
      failed[id] = check.reason;
      return;
    }
    const size = payloadByteLength(check.bso);
    if (bytes + size > limits.maxPostBytes) {
      failed[id] = 'retry bytes';
      return;
    }
    bytes += size;
    valid.push(check.bso);
  });
  return { valid, failed };
}
