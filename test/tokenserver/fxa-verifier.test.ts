// FxA OAuth verification against the fake FxA (a real HTTP server): local
// JWKs (primary, secondary), JWKs fetched from /v1/jwks and cached, the
// /v1/verify fallback, its timeout, and the scope check.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FxaVerifier } from '../../src/tokenserver/fxa-verifier.js';
import { TokenserverError } from '../../src/tokenserver/tokenserver-errors.js';
import { FakeFxa, OLDSYNC } from './support/fake-fxa.js';

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof TokenserverError) return `${error.httpStatus} ${error.status}`;
    throw error;
  }
}

describe('FxA OAuth verification', () => {
  let fxa: FakeFxa;
  before(async () => {
    fxa = await FakeFxa.start();
  });
  after(() => fxa.stop());
  beforeEach(() => {
    fxa.calls.jwks = 0;
    fxa.calls.verify = 0;
    fxa.jwksMode = 'keys';
    fxa.verifyMode = 'ok';
  });

  const verifier = (jwks = [fxa.publicJwk], jwksCacheMs?: number) =>
    new FxaVerifier({ oauthServerUrl: fxa.url, requestTimeoutMs: 300, jwks, jwksCacheMs });

  test('a configured JWK verifies locally: uid and generation, no call to FxA', async () => {
    const token = await fxa.accessToken({ fxaUid: 'u1', generation: 42 });
    assert.deepEqual(await verifier().verify(token), { fxaUid: 'u1', generation: 42 });
    assert.deepEqual(fxa.calls, { jwks: 0, verify: 0 });
  });

  test('the secondary JWK verifies after the primary fails (key rotation)', async () => {
    const token = await fxa.accessToken({ fxaUid: 'u2', generation: null });
    const rotated = verifier([fxa.otherPublicJwk, fxa.publicJwk]);
    assert.deepEqual(await rotated.verify(token), { fxaUid: 'u2', generation: null });
    // Signed by a key neither JWK holds: 401, and FxA is not asked.
    const foreign = await fxa.accessToken({ key: fxa.otherKey });
    assert.equal(await outcome(verifier().verify(foreign)), '401 invalid-credentials');
    assert.equal(fxa.calls.verify, 0);
  });

  test('without configured JWKs, /v1/jwks is fetched once and cached', async () => {
    const v = verifier([]);
    await v.verify(await fxa.accessToken({ fxaUid: 'u3' }));
    await v.verify(await fxa.accessToken({ fxaUid: 'u3' }));
    assert.deepEqual(fxa.calls, { jwks: 1, verify: 0 });
    const expired = verifier([], 0);
    await expired.verify(await fxa.accessToken());
    await expired.verify(await fxa.accessToken());
    assert.equal(fxa.calls.jwks, 3);
  });

  test('no usable key at /v1/jwks (or it fails): /v1/verify decides', async () => {
    for (const mode of ['empty', 'error'] as const) {
      fxa.jwksMode = mode;
      const token = await fxa.accessToken({ fxaUid: `u-${mode}`, generation: 7 });
      assert.deepEqual(await verifier([]).verify(token), { fxaUid: `u-${mode}`, generation: 7 });
    }
    assert.equal(fxa.calls.verify, 2);
  });

  test('a token that is not a JWT goes to /v1/verify, with its scope checked', async () => {
    const good = fxa.opaqueToken('u4', 9);
    assert.deepEqual(await verifier().verify(good), { fxaUid: 'u4', generation: 9 });
    const noScope = fxa.opaqueToken('u5', 9, ['profile']);
    assert.equal(await outcome(verifier().verify(noScope)), '401 invalid-credentials');
    fxa.verifyMode = 'reject';
    assert.equal(await outcome(verifier().verify(good)), '401 invalid-credentials');
  });

  test('FxA failing or too slow is 503, not 401', async () => {
    const token = fxa.opaqueToken('u6');
    fxa.verifyMode = 'error';
    assert.equal(await outcome(verifier().verify(token)), '503 internal-error');
    fxa.verifyMode = 'hang';
    const started = Date.now();
    assert.equal(await outcome(verifier().verify(token)), '503 internal-error');
    assert.ok(Date.now() - started < 2000, 'the timeout bounds the wait');
  });

  test('expired, wrong typ or without the oldsync scope: 401', async () => {
    for (const token of [
      await fxa.accessToken({ expiresIn: -120 }),
      await fxa.accessToken({ typ: 'JWT' }),
      await fxa.accessToken({ scope: 'profile https://identity.mozilla.com/apps/other' }),
    ]) {
      assert.equal(await outcome(verifier().verify(token)), '401 invalid-credentials');
    }
    assert.equal(fxa.calls.verify, 0);
    // Comma-separated scopes (as syncstorage-rs splits them) pass too.
    const comma = await fxa.accessToken({ fxaUid: 'u7', scope: `profile,${OLDSYNC}` });
    assert.equal((await verifier().verify(comma)).fxaUid, 'u7');
  });
});
