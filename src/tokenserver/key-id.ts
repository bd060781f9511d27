/**
 * The client's key identity as Firefox sends it with an OAuth token
 * (syncstorage-rs `KeyId` and `XClientStateHeader` extractors):
 *
 *   X-KeyID: <keys_changed_at>-<base64url, no padding, of the client state bytes>
 *   X-Client-State: <hex of the same bytes>   (legacy, optional; must agree)
 *
 * The client state is kept as lower-case hex, as the `users` table stores it.
 * Checks run in syncstorage-rs's order, so each malformed header gets the
 * same error as there.
 */
import { tokenserverErrors } from './tokenserver-errors.js';

export interface KeyId {
  keysChangedAt: number;
  /** Lower-case hex. */
  clientState: string;
}

/** Visible ASCII (and tab): what the `http` crate's `to_str()` accepts. */
const VISIBLE_ASCII = /^[\t\x20-\x7e]*$/;
const BASE64URL_NO_PAD = /^[A-Za-z0-9_-]*$/;
const CLIENT_STATE = /^[a-zA-Z0-9._-]{1,32}$/;
const INTEGER = /^\+?\d{1,16}$/;

function single(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

/** Strict base64url without padding (canonical trailing bits), as the base64 crate decodes it. */
function decodeNoPad(text: string): Buffer | undefined {
  if (!BASE64URL_NO_PAD.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

export function parseKeyId(
  keyIdHeader: string | string[] | undefined,
  clientStateHeader: string | string[] | undefined,
): KeyId {
  const keyId = single(keyIdHeader);
  if (keyId === undefined) throw tokenserverErrors.invalidKeyId('Missing X-KeyID header');
  if (!VISIBLE_ASCII.test(keyId)) throw tokenserverErrors.invalidKeyId('Invalid X-KeyID header');
  const dash = keyId.indexOf('-');
  if (dash < 0) throw tokenserverErrors.invalidCredentials('X-KeyID header has invalid format');
  const bytes = decodeNoPad(keyId.slice(dash + 1));
  if (!bytes) {
    throw tokenserverErrors.invalidCredentials('Failed to decode client state base64 in X-KeyID');
  }
  const clientState = bytes.toString('hex');
  const legacy = single(clientStateHeader);
  if (legacy !== undefined) {
    if (!CLIENT_STATE.test(legacy)) throw tokenserverErrors.badClientStateHeader();
    if (legacy !== clientState) throw tokenserverErrors.clientStateMismatch();
  }
  const keysChangedAtText = keyId.slice(0, dash);
  const keysChangedAt = INTEGER.test(keysChangedAtText) ? Number(keysChangedAtText) : NaN;
  if (!Number.isSafeInteger(keysChangedAt)) {
    throw tokenserverErrors.invalidCredentials('Non-integral keys_changed_at in X-KeyID');
  }
  return { keysChangedAt, clientState };
}

/**
 * The token payload's `fxa_kid`: keys_changed_at (or the generation when
 * there is none) zero-padded to 13 digits, `-`, base64url without padding
 * of the client state bytes (syncstorage-rs `get_token_plaintext`).
 */
export function fxaKid(
  keysChangedAt: number | null,
  generation: number,
  clientState: string,
): string {
  const stamp = String(keysChangedAt ?? generation).padStart(13, '0');
  return `${stamp}-${Buffer.from(clientState, 'hex').toString('base64url')}`;
}
