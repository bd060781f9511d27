// Unit tests of the pure parts: X-KeyID parsing, fxa_kid, the metrics hashes
// (syncstorage-rs's vectors), Mozilla's generation / client-state rules and
// the node choice.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashedDeviceId, hashedFxaUid } from '../../src/tokenserver/account-hash.js';
import { fxaKid, parseKeyId } from '../../src/tokenserver/key-id.js';
import { chooseNode, releasedSlots } from '../../src/tokenserver/node-assignment.js';
import { bearerToken, tokenDuration } from '../../src/tokenserver/token-issuer.js';
import { TokenserverError } from '../../src/tokenserver/tokenserver-errors.js';
import {
  planUserUpdate,
  validateClaims,
  type AuthClaims,
  type CurrentUser,
} from '../../src/tokenserver/user-rules.js';

function status(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof TokenserverError) return `${error.httpStatus} ${error.status}`;
    throw error;
  }
  return 'ok';
}

describe('X-KeyID and X-Client-State', () => {
  test('keys_changed_at and the client state as hex (syncstorage-rs test_key_id)', () => {
    assert.deepEqual(parseKeyId('0000000001234-qqo', undefined), {
      keysChangedAt: 1234,
      clientState: 'aaaa',
    });
    assert.deepEqual(parseKeyId('0000000001234-qqo', 'aaaa'), {
      keysChangedAt: 1234,
      clientState: 'aaaa',
    });
  });

  test('each malformed header gets syncstorage-rs error', () => {
    assert.equal(
      status(() => parseKeyId(undefined, undefined)),
      '401 invalid-key-id',
    );
    assert.equal(
      status(() => parseKeyId('\u200b', undefined)),
      '401 invalid-key-id',
    );
    assert.equal(
      status(() => parseKeyId('00000000', undefined)),
      '401 invalid-credentials',
    );
    assert.equal(
      status(() => parseKeyId('1234-notbase64', undefined)),
      '401 invalid-credentials',
    );
    assert.equal(
      status(() => parseKeyId('1234-qqo=', undefined)),
      '401 invalid-credentials',
    );
    assert.equal(
      status(() => parseKeyId('notanumber-qqo', undefined)),
      '401 invalid-credentials',
    );
    assert.equal(
      status(() => parseKeyId('1234-qqo', 'bbbb')),
      '401 invalid-client-state',
    );
    assert.equal(
      status(() => parseKeyId('1234-qqo', 'not/valid')),
      '400 error',
    );
    assert.equal(
      status(() => parseKeyId('1234-qqo', 'a'.repeat(33))),
      '400 error',
    );
  });

  test('fxa_kid: 13 zero-padded digits, then the client state in unpadded base64url', () => {
    assert.equal(fxaKid(1234, 99, 'aaaa'), '0000000001234-qqo');
    assert.equal(fxaKid(null, 1700000000000, 'ffff00'), '1700000000000-__8A');
    assert.equal(fxaKid(0, 55, ''), '0000000000000-');
  });
});

describe('metrics hashes', () => {
  test("match syncstorage-rs's test vectors (secret '', fxa uid test123)", () => {
    const uid = hashedFxaUid('', 'test123');
    assert.equal(uid, '4d00ecae64b98dd7dc7dea68d0dd615d');
    assert.equal(hashedDeviceId('', uid), '3a41cccbdd666ebc4199f1f9d1249d44');
  });
});

describe('Authorization and ?duration', () => {
  test('Bearer, case-insensitive; anything else is 401', () => {
    assert.equal(bearerToken('Bearer a b'), 'a b');
    assert.equal(bearerToken('bEaReR tok'), 'tok');
    assert.equal(
      status(() => bearerToken(undefined)),
      '401 error',
    );
    assert.equal(
      status(() => bearerToken('Bearer')),
      '401 error',
    );
    assert.equal(
      status(() => bearerToken('Hawk id="x"')),
      '401 error',
    );
  });

  test('a duration above the configured one, or not a number, is the configured one', () => {
    assert.equal(tokenDuration('100', 3600), 100);
    assert.equal(tokenDuration('3601', 3600), 3600);
    assert.equal(tokenDuration('-5', 3600), 3600);
    assert.equal(tokenDuration('abc', 3600), 3600);
    assert.equal(tokenDuration(undefined, 3600), 3600);
  });
});

const user: CurrentUser = {
  uid: 1,
  node: 'node',
  generation: 1234,
  keysChangedAt: 1234,
  clientState: 'aaaa',
  createdAt: 1234,
  firstSeenAt: 1234,
  oldClientStates: [],
};
const auth = (patch: Partial<AuthClaims>): AuthClaims => ({
  clientState: 'aaaa',
  generation: 1234,
  keysChangedAt: 1234,
  ...patch,
});

describe("Mozilla's user rules", () => {
  test('the same claims pass and change nothing', () => {
    assert.equal(
      status(() => validateClaims(auth({}), user)),
      'ok',
    );
    assert.deepEqual(planUserUpdate(auth({}), user), {
      generation: 1234,
      keysChangedAt: 1234,
      newClientState: false,
      changed: false,
    });
  });

  test('a lower generation is invalid-generation', () => {
    assert.equal(
      status(() => validateClaims(auth({ generation: 1233 }), user)),
      '401 invalid-generation',
    );
  });

  test('a lower keys_changed_at, or one above the generation, is invalid-keysChangedAt', () => {
    assert.equal(
      status(() => validateClaims(auth({ keysChangedAt: 1233 }), user)),
      '401 invalid-keysChangedAt',
    );
    assert.equal(
      status(() => validateClaims(auth({ keysChangedAt: 1235 }), user)),
      '401 invalid-keysChangedAt',
    );
  });

  test('a missing keys_changed_at once one was seen is invalid-keysChangedAt; a stored 0 is fine', () => {
    assert.equal(
      status(() => validateClaims(auth({ keysChangedAt: null }), user)),
      '401 invalid-keysChangedAt',
    );
    const zero = { ...user, keysChangedAt: 0 };
    assert.equal(
      status(() => validateClaims(auth({ keysChangedAt: null }), zero)),
      'ok',
    );
    assert.equal(planUserUpdate(auth({ keysChangedAt: null }), zero).keysChangedAt, 0);
  });

  test('client state: stale, empty after non-empty, or new without a higher generation / kca', () => {
    const withOld = { ...user, oldClientStates: ['bbbb'] };
    const cases: Array<[Partial<AuthClaims>, CurrentUser]> = [
      [{ clientState: 'bbbb', generation: 2000, keysChangedAt: 2000 }, withOld],
      [{ clientState: '' }, user],
      [{ clientState: 'cccc' }, user],
      [{ clientState: 'cccc', generation: 1235 }, user],
    ];
    for (const [patch, record] of cases) {
      assert.equal(
        status(() => validateClaims(auth(patch), record)),
        '401 invalid-client-state',
        JSON.stringify(patch),
      );
    }
  });

  test('a new client state with higher generation and kca is a new record', () => {
    const claims = auth({ clientState: 'cccc', generation: 1300, keysChangedAt: 1300 });
    assert.equal(
      status(() => validateClaims(claims, user)),
      'ok',
    );
    assert.deepEqual(planUserUpdate(claims, user), {
      generation: 1300,
      keysChangedAt: 1300,
      newClientState: true,
      changed: false,
    });
  });

  test('without a generation, a newer keys_changed_at becomes the generation', () => {
    const claims = auth({ generation: null, keysChangedAt: 1500 });
    assert.equal(
      status(() => validateClaims(claims, user)),
      'ok',
    );
    assert.deepEqual(planUserUpdate(claims, user), {
      generation: 1500,
      keysChangedAt: 1500,
      newClientState: false,
      changed: true,
    });
  });
});

describe('node choice', () => {
  const node = (id: number, currentLoad: number, capacity: number, available: number) => ({
    id,
    node: `n${id}`,
    currentLoad,
    capacity,
    available,
  });

  test('least ln(load)/ln(capacity) first, an empty node first, ties to more available', () => {
    assert.equal(chooseNode([node(1, 50, 100, 10), node(2, 10, 100, 10)])?.id, 2);
    assert.equal(chooseNode([node(1, 1, 100, 10), node(2, 0, 1000, 1)])?.id, 2);
    // 10/100 and 100/10000 have the same ratio: more available wins
    assert.equal(chooseNode([node(1, 10, 100, 5), node(2, 100, 10000, 50)])?.id, 2);
    assert.equal(chooseNode([]), undefined);
  });

  test('a release opens the rate share of capacity, at least 1, at most what is left', () => {
    assert.equal(releasedSlots(100000, 0, 0.1), 10000);
    assert.equal(releasedSlots(100, 95, 0.1), 5);
    assert.equal(releasedSlots(5, 0, 0.1), 1);
  });
});
