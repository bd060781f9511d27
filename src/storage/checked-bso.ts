/**
 * A BSO checked once, at the boundary where it arrived (`checkBso` in
 * `bso-rules.ts`, called by the HTTP layer), and handed down as that checked
 * type: frozen, so it cannot change after the check, and remembered here with
 * its payload's UTF-8 length. The storage layers below (cached, SQL) then
 * neither validate it again (`input-checks.ts`) nor measure its payload again
 * (`payloadByteLength`). Objects a library user builds are not remembered and
 * are checked at the storage boundary as before.
 */
import type { BsoInput } from './sync-storage.js';

declare const CHECKED: unique symbol;

/** A BSO that passed `checkBso`; only `markChecked` makes one. */
export type CheckedBso = Readonly<BsoInput> & { readonly [CHECKED]: true };

/** Checked BSOs and their payloads' UTF-8 byte length. */
const checked = new WeakMap<object, number>();

export function markChecked(bso: BsoInput, payloadBytes: number): CheckedBso {
  Object.freeze(bso);
  checked.set(bso, payloadBytes);
  return bso as CheckedBso;
}

export function isCheckedBso(item: object): item is CheckedBso {
  return checked.has(item);
}

/** UTF-8 bytes of the item's payload (0 without one); measured once for checked BSOs. */
export function payloadByteLength(item: { readonly payload?: string }): number {
  return checked.get(item) ?? (item.payload === undefined ? 0 : Buffer.byteLength(item.payload));
}
