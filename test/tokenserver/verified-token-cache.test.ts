// The verified-JWT cache of FxaVerifier: a token verified once is remembered
// by its digest for at most a minute and never past its own `exp`. Each real
// verification is seen at the fake FxA: the verifier has no configured JWK
// and keeps fetched JWKs for 0 ms, so every verification fetches /v1/jwks
// once, and a cache hit fetches nothing. The verifier's clock is driven by
// the test (it also governs jose's `exp` check).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FxaVerifier } from '../../src/tokenserver/fxa-verifier.js';
import { TokenserverError } from '../../src/tokenserver/tokenserver-errors.js';
import { FakeFxa } from './support/fake-fxa.js';

describe('verified-JWT cache', () => {
  let fxa: FakeFxa;
  let now: number;
  let verifier: FxaVerifier;
  before(async () => {
    fxa = await FakeFxa.start();
  });
  after(() => fxa.stop());
  beforeEach(() => {
    fxa.calls.jwks = 0;
    now = Date.now();
    verifier = new FxaVerifier({
      oauthServerUrl: fxa.url,
      requestTimeoutMs: 1000,
      jwks: [],
      jwksCacheMs: 0,
      clockToleranceSeconds: 0,
      clock: () => now,
    });
  });

  /** Verifies and says whether the verifier checked the token (a /v1/jwks fetch) or remembered it. */
  async function verifyCounted(token: string): Promise<{ checked: boolean; uid: string }> {
    const before = fxa.calls.jwks;
    const { fxaUid } = await verifier.verify(token);
    return { checked: fxa.calls.jwks > before, uid: fxaUid };
  }

  test('a token is remembered for a minute, then verified again', async () => {
    const token = await fxa.accessToken({ fxaUid: 'c1', expiresIn: 3600 });
    assert.deepEqual(await verifyCounted(token), { checked: true, uid: 'c1' });
    now += 59_000;
    assert.deepEqual(await verifyCounted(token), { checked: false, uid: 'c1' });
    now += 2_000;
    assert.deepEqual(await verifyCounted(token), { checked: true, uid: 'c1' });
    // Remembered again from that second verification.
    assert.deepEqual(await verifyCounted(token), { checked: false, uid: 'c1' });
  });

  test('never remembered past the token expiry: then re-verified and refused', async () => {
    const token = await fxa.accessToken({ fxaUid: 'c2', expiresIn: 30 });
    assert.deepEqual(await verifyCounted(token), { checked: true, uid: 'c2' });
    now += 29_000;
    assert.deepEqual(await verifyCounted(token), { checked: false, uid: 'c2' });
    now += 2_000;
    const before = fxa.calls.jwks;
    await assert.rejects(verifier.verify(token), (error: unknown) => {
      assert.ok(error instanceof TokenserverError);
      assert.equal(error.httpStatus, 401);
      assert.equal(error.status, 'invalid-credentials');
      return true;
    });
    assert.equal(fxa.calls.jwks, before + 1, 'the expired token was verified again');
  });

  test('a different token never hits, even for the same account or payload', async () => {
    const first = await fxa.accessToken({ fxaUid: 'c3' });
    const second = await fxa.accessToken({ fxaUid: 'c3', expiresIn: 3000 });
    assert.deepEqual(await verifyCounted(first), { checked: true, uid: 'c3' });
    assert.deepEqual(await verifyCounted(second), { checked: true, uid: 'c3' });
    // The remembered token's header and claims with another signature: refused.
    const signatureAt = first.lastIndexOf('.') + 1;
    const flipped = first[signatureAt] === 'A' ? 'B' : 'A';
    const tampered = first.slice(0, signatureAt) + flipped + first.slice(signatureAt + 1);
    const before = fxa.calls.jwks;
    await assert.rejects(verifier.verify(tampered), TokenserverError);
    assert.equal(fxa.calls.jwks, before + 1);
  });

  test('a refused token is not remembered', async () => {
    const expired = await fxa.accessToken({ fxaUid: 'c4', expiresIn: -10 });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(verifier.verify(expired), TokenserverError);
    }
    assert.equal(fxa.calls.jwks, 2);
  });
});
