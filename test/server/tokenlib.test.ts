import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  deriveHawkKey,
  InvalidTokenError,
  mintToken,
  pythonJson,
  signingKey,
  verifyToken,
  type TokenPayload,
} from '../../src/server/auth/tokenlib.js';
import { decodeUrlsafe, encodeUrlsafe } from '../../src/server/auth/base64url.js';

interface TokenVector {
  master_secret: string;
  payload: TokenPayload;
  token: string;
  derived_secret: string;
  payload_json_as_signed: string;
}

const vectors = (
  JSON.parse(readFileSync(new URL('../vectors/auth.json', import.meta.url), 'utf8')) as {
    tokenlib: TokenVector[];
  }
).tokenlib;

describe('tokenlib tokens (vectors from Mozilla tokenlib)', () => {
  for (const v of vectors) {
    test(`mints the exact token and key for uid ${v.payload.uid}`, () => {
      const p = v.payload;
      const minted = mintToken(v.master_secret, {
        uid: p.uid,
        node: p.node,
        expires: p.expires,
        salt: p.salt,
        fxaUid: p.fxa_uid,
        fxaKid: p.fxa_kid,
        hashedFxaUid: p.hashed_fxa_uid,
        hashedDeviceId: p.hashed_device_id,
      });
      assert.equal(pythonJson(minted.payload), v.payload_json_as_signed);
      assert.equal(minted.id, v.token);
      assert.equal(minted.key, v.derived_secret);
    });

    test(`verifies the token of uid ${v.payload.uid} and derives its key`, () => {
      const payload = verifyToken(signingKey(v.master_secret), v.token);
      assert.deepEqual(payload, v.payload);
      assert.equal(deriveHawkKey(v.master_secret, v.token, payload.salt), v.derived_secret);
    });
  }

  test('the signature covers the payload bytes as sent, not a re-serialization', () => {
    const v = vectors[0]!;
    // Same fields, compact JSON: a re-serializing verifier would accept this.
    const raw = decodeUrlsafe(v.token)!;
    const mac = raw.subarray(raw.length - 32);
    const compact = Buffer.from(JSON.stringify(v.payload));
    const forged = encodeUrlsafe(Buffer.concat([compact, mac]));
    assert.throws(() => verifyToken(signingKey(v.master_secret), forged), InvalidTokenError);
  });

  test('refuses a tampered token, a wrong secret, and garbage', () => {
    const v = vectors[0]!;
    const key = signingKey(v.master_secret);
    const raw = decodeUrlsafe(v.token)!;
    raw[10] = raw[10]! ^ 1;
    assert.throws(() => verifyToken(key, encodeUrlsafe(raw)), InvalidTokenError);
    assert.throws(() => verifyToken(signingKey('another secret'), v.token), InvalidTokenError);
    for (const bad of ['', 'abc', '!!!!', 'a'.repeat(20), '=' + v.token]) {
      assert.throws(() => verifyToken(key, bad), InvalidTokenError);
    }
  });

  test('refuses a correctly signed payload with bad fields', () => {
    const secret = 'x';
    const key = signingKey(secret);
    for (const json of [
      '[]',
      '{"uid": "1", "node": "n", "expires": 1, "salt": "a"}',
      '{"uid": 1}',
      'nope',
    ]) {
      const bytes = Buffer.from(json);
      const token = encodeUrlsafe(
        Buffer.concat([bytes, createHmac('sha256', key).update(bytes).digest()]),
      );
      assert.throws(() => verifyToken(key, token), InvalidTokenError, json);
    }
  });
});
