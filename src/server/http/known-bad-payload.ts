/**
 * The one payload Mozilla's servers refuse by content: a `crypto` record
 * whose IV is all zeros, written by a long-fixed client bug (a key bundle
 * encrypted that way is unreadable by every other device). syncstorage-rs
 * matches the raw payload text against `"IV":\s*"AAAAAAAAAAAAAAAAAAAAAA=="`
 * on PUT and POST into `crypto` and answers 400 (code 8); other collections
 * accept it.
 */
import { HttpError } from '../errors/weave-errors.js';

const KNOWN_BAD_PAYLOAD = /"IV":\s*"AAAAAAAAAAAAAAAAAAAAAA=="/;

/** Throws 400 (invalid BSO) when `collection` is crypto and a payload carries the all-zero IV. */
export function refuseKnownBadPayloads(
  collection: string,
  payloads: Iterable<string | undefined>,
): void {
  if (collection !== 'crypto') return;
  for (const payload of payloads) {
    if (payload !== undefined && KNOWN_BAD_PAYLOAD.test(payload)) {
      throw new HttpError('INVALID_BSO', 'known-bad crypto payload (all-zero IV)');
    }
  }
}
