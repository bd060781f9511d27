/**
 * Mozilla's rules for `generation`, `keys_changed_at` and `client_state`
 * (syncstorage-rs `TokenserverRequest::validate` and `update_user`), as
 * pure functions over the request's claims and the user's current record.
 *
 * - `generation` increases on every auth-related change of the account;
 *   `keys_changed_at` on every key change, so `keys_changed_at ≤ generation`.
 * - `client_state` is a key fingerprint and never goes back to a value seen
 *   before. A new one needs a higher generation and keys_changed_at (when
 *   they are reported) and gets a new uid.
 * - 0 means "not reported" for generation and keys_changed_at (the Python
 *   token server's convention): callers pass null for it.
 */
import { tokenserverErrors } from './tokenserver-errors.js';

/** What the request says about the account. */
export interface AuthClaims {
  /** Lower-case hex of the client state bytes ("" for none). */
  clientState: string;
  /** null when not reported (absent or 0). */
  generation: number | null;
  /** null when not reported (absent or 0). */
  keysChangedAt: number | null;
}

/** The user's current record as `getOrCreateUser` returns it. */
export interface CurrentUser {
  uid: number;
  node: string;
  generation: number;
  keysChangedAt: number | null;
  clientState: string;
  createdAt: number;
  /** created_at of the user's oldest record. */
  firstSeenAt: number;
  /** Client states of older records that differ from the current one. */
  oldClientStates: readonly string[];
}

/** The generation that marks a retired user (i64::MAX; read back as ≈ 9.22e18). */
export const MAX_GENERATION_SQL = '9223372036854775807';

/** Whether a generation read from the database is the retired marker. */
export function isRetiredGeneration(generation: number): boolean {
  return generation > Number.MAX_SAFE_INTEGER;
}

/** `a op b` when both are reported, else false (syncstorage-rs `opt_cmp!`). */
function both(a: number | null, b: number | null, op: (a: number, b: number) => boolean): boolean {
  return a !== null && b !== null && op(a, b);
}
const gt = (a: number, b: number) => a > b;
const lt = (a: number, b: number) => a < b;
const le = (a: number, b: number) => a <= b;

/** Throws the TokenserverError Mozilla's token server would answer with, in its order. */
export function validateClaims(auth: AuthClaims, user: CurrentUser): void {
  const userGeneration = user.generation;
  // A key change must come with a generation change; the best we can check
  // (an old server may have stored the new generation already) is kca ≤ generation.
  if (
    both(auth.keysChangedAt, user.keysChangedAt, gt) &&
    both(auth.generation, auth.keysChangedAt, lt)
  ) {
    throw tokenserverErrors.invalidKeysChangedAt('keys_changed_at greater than generation');
  }
  if (user.clientState !== '' && auth.clientState === '') {
    throw tokenserverErrors.invalidClientState('Unacceptable client-state value empty string');
  }
  if (user.oldClientStates.includes(auth.clientState)) {
    throw tokenserverErrors.invalidClientState('Unacceptable client-state value stale value');
  }
  if (auth.clientState !== user.clientState && both(auth.generation, userGeneration, le)) {
    throw tokenserverErrors.invalidClientState(
      'Unacceptable client-state value new value with no generation change',
    );
  }
  if (auth.clientState !== user.clientState && both(auth.keysChangedAt, user.keysChangedAt, le)) {
    throw tokenserverErrors.invalidClientState(
      'Unacceptable client-state value new value with no keys_changed_at change',
    );
  }
  if (both(userGeneration, auth.generation, gt)) {
    throw tokenserverErrors.invalidGeneration(
      'New generation less than previously-seen generation',
    );
  }
  if (both(user.keysChangedAt, auth.keysChangedAt, gt)) {
    throw tokenserverErrors.invalidKeysChangedAt(
      'New keys_changed_at less than previously-seen keys_changed_at',
    );
  }
  // The Python server stored a missing keys_changed_at as 0 and read NULL as
  // 0: a user whose record has a real one must keep sending it.
  if (auth.keysChangedAt === null && user.keysChangedAt !== null && user.keysChangedAt !== 0) {
    throw tokenserverErrors.invalidKeysChangedAt(
      "No keys_changed_at sent for a user for whom we've already seen a keys_changed_at",
    );
  }
}

/** What the user's record becomes after a valid request (syncstorage-rs `update_user`). */
export interface UserUpdate {
  generation: number;
  keysChangedAt: number | null;
  /** A new client state: a new record (new uid) on the same node, older ones replaced. */
  newClientState: boolean;
  /** Same client state with a new generation or keys_changed_at: update in place. */
  changed: boolean;
}

/** Call after `validateClaims` passed. */
export function planUserUpdate(auth: AuthClaims, user: CurrentUser): UserUpdate {
  let keysChangedAt: number | null;
  if (auth.keysChangedAt !== null) keysChangedAt = auth.keysChangedAt;
  else keysChangedAt = user.keysChangedAt === null ? null : 0;

  let generation: number;
  if (auth.generation !== null) {
    generation = auth.generation;
  } else if (
    auth.keysChangedAt !== null &&
    (user.keysChangedAt === null || auth.keysChangedAt > user.keysChangedAt) &&
    auth.keysChangedAt > user.generation
  ) {
    // No generation reported, but keys changed after the last one we saw.
    generation = auth.keysChangedAt;
  } else {
    generation = user.generation;
  }
  const newClientState = auth.clientState !== user.clientState;
  return {
    generation,
    keysChangedAt,
    newClientState,
    changed:
      !newClientState && (generation !== user.generation || keysChangedAt !== user.keysChangedAt),
  };
}
