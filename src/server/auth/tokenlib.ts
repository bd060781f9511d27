/**
 * Tokens in Mozilla's tokenlib format (API.md "Authentication"): what the
 * token server issues and this server verifies with the shared master secret.
 *
 *   token = urlsafe_b64(payload_json ‖ HMAC-SHA256(signing_key, payload_json))
 *   signing_key = HKDF-SHA256(secret, salt = none, info = ".../signing", 32)
 *   hawk_key = urlsafe_b64(HKDF-SHA256(secret, salt = payload.salt, info = ".../derive/" + token, 32))
 */
import {
  createHmac,
  createSecretKey,
  hkdfSync,
  randomFillSync,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { decodeUrlsafe, encodeUrlsafe } from './base64url.js';

const SIGNING_INFO = 'services.mozilla.com/tokenlib/v1/signing';
const DERIVE_INFO = 'services.mozilla.com/tokenlib/v1/derive/';
const HASH_BYTES = 32;

/** The fields of a token. `expires` is epoch seconds (may have a fraction). */
export interface TokenPayload {
  uid: number;
  node: string;
  expires: number;
  salt: string;
  fxa_uid?: string;
  fxa_kid?: string;
  hashed_fxa_uid?: string;
  hashed_device_id?: string;
}

/** Why a token was refused; never echoed to the client in detail. */
export class InvalidTokenError extends Error {
  readonly code = 'INVALID_TOKEN';
  constructor(readonly reason: string) {
    super(`invalid token: ${reason}`);
    this.name = 'InvalidTokenError';
  }
}

/**
 * The master secret as a KeyObject, kept for the last secret used (a process
 * has one): `hkdfSync` given a Buffer builds a KeyObject on every call, which
 * costs as much as a fifth of the derivation.
 */
let lastSecret: { secret: string; key: KeyObject } | undefined;
function secretKey(secret: string): KeyObject {
  if (lastSecret?.secret !== secret) {
    lastSecret = { secret, key: createSecretKey(Buffer.from(secret, 'utf8')) };
  }
  return lastSecret.key;
}

function hkdf(secret: string, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey(secret), salt, info, HASH_BYTES));
}

/**
 * Random bytes for token salts, drawn from the CSPRNG a few kilobytes at a
 * time: each byte is used once, but one `randomBytes(3)` per token costs
 * more than the HMAC that signs it (a native call per request).
 */
const saltPool = Buffer.alloc(3 * 1024);
let saltOffset = saltPool.length;
function randomSalt(): string {
  if (saltOffset + 3 > saltPool.length) {
    randomFillSync(saltPool);
    saltOffset = 0;
  }
  const salt = saltPool.toString('hex', saltOffset, saltOffset + 3);
  saltOffset += 3;
  return salt;
}

/** The key tokens are signed with, for one master secret. Compute once and keep. */
export function signingKey(masterSecret: string): Buffer {
  return hkdf(masterSecret, Buffer.alloc(0), SIGNING_INFO);
}

/** The Hawk key for a token: its base64 text itself is the HMAC key (API.md). */
export function deriveHawkKey(masterSecret: string, token: string, salt: string): string {
  return encodeUrlsafe(hkdf(masterSecret, Buffer.from(salt, 'utf8'), DERIVE_INFO + token));
}

/**
 * Python's `json.dumps` text for a payload (", " and ": " separators), so a
 * token minted here is byte-identical to tokenlib's for the same fields.
 */
export function pythonJson(payload: TokenPayload): string {
  const parts = Object.entries(payload)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`);
  return `{${parts.join(', ')}}`;
}

export interface MintOptions {
  uid: number;
  node: string;
  /** Epoch seconds at which the token expires. */
  expires: number;
  /** Hex salt; random when not given. */
  salt?: string;
  fxaUid?: string;
  fxaKid?: string;
  hashedFxaUid?: string;
  hashedDeviceId?: string;
}

export interface MintedToken {
  /** The token, used as the Hawk id. */
  id: string;
  /** The Hawk key (urlsafe base64 text). */
  key: string;
  payload: TokenPayload;
}

/** The signing key of the last master secret minted with (a process has one; HKDF per token is measurable). */
let lastMinting: { secret: string; key: Buffer } | undefined;
function mintingKey(masterSecret: string): Buffer {
  if (lastMinting?.secret !== masterSecret) {
    lastMinting = { secret: masterSecret, key: signingKey(masterSecret) };
  }
  return lastMinting.key;
}

/** Make a token and its Hawk key, as Mozilla's token server would. */
export function mintToken(masterSecret: string, options: MintOptions): MintedToken {
  const payload: TokenPayload = {
    uid: options.uid,
    node: options.node,
    expires: options.expires,
    salt: options.salt ?? randomSalt(),
    fxa_uid: options.fxaUid,
    fxa_kid: options.fxaKid,
    hashed_fxa_uid: options.hashedFxaUid,
    hashed_device_id: options.hashedDeviceId,
  };
  const json = Buffer.from(pythonJson(payload), 'utf8');
  const mac = createHmac('sha256', mintingKey(masterSecret)).update(json).digest();
  const id = encodeUrlsafe(Buffer.concat([json, mac]));
  return { id, key: deriveHawkKey(masterSecret, id, payload.salt), payload };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const OPTIONAL_STRINGS = ['fxa_uid', 'fxa_kid', 'hashed_fxa_uid', 'hashed_device_id'] as const;

/**
 * Check a token's signature over the decoded payload bytes exactly as they
 * are (never re-serialized: Python's JSON text differs from ours), then its
 * fields. Expiry is NOT checked here (info/collections accepts expired
 * tokens); compare `payload.expires` with the clock. Throws `InvalidTokenError`.
 */
export function verifyToken(key: Buffer, token: string): TokenPayload {
  const raw = decodeUrlsafe(token);
  if (!raw || raw.length <= HASH_BYTES) throw new InvalidTokenError('not base64 or too short');
  const json = raw.subarray(0, raw.length - HASH_BYTES);
  const signature = raw.subarray(raw.length - HASH_BYTES);
  const expected = createHmac('sha256', key).update(json).digest();
  if (!timingSafeEqual(signature, expected)) throw new InvalidTokenError('bad signature');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch {
    throw new InvalidTokenError('payload is not JSON');
  }
  if (!isRecord(parsed)) throw new InvalidTokenError('payload is not an object');
  const { uid, node, expires, salt } = parsed;
  if (typeof uid !== 'number' || !Number.isSafeInteger(uid) || uid < 0) {
    throw new InvalidTokenError('bad uid');
  }
  if (typeof node !== 'string') throw new InvalidTokenError('bad node');
  if (typeof expires !== 'number' || !Number.isFinite(expires)) {
    throw new InvalidTokenError('bad expires');
  }
  if (typeof salt !== 'string') throw new InvalidTokenError('bad salt');
  const payload: TokenPayload = { uid, node, expires, salt };
  for (const field of OPTIONAL_STRINGS) {
    const value = parsed[field];
    if (typeof value === 'string') payload[field] = value;
  }
  return payload;
}
