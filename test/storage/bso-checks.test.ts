/**
 * A BSO is checked once, at the boundary (`checkBso`), and handed down as a
 * checked type that carries its payload length; the storage-side check
 * (`checkBsoFields`, for library users) applies the same rules to
 * everything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBso } from '../../src/storage/bso-rules.js';
import { isCheckedBso, payloadByteLength } from '../../src/storage/checked-bso.js';
import { StorageInputError } from '../../src/storage/errors.js';
import { checkBsoFields } from '../../src/storage/input-checks.js';

test('checkBso hands down a frozen, checked BSO that knows its payload length', () => {
  const check = checkBso({ id: 'a', payload: 'héllo ✓', sortindex: 5, ttl: 10 });
  assert.ok(check.ok);
  assert.ok(isCheckedBso(check.bso));
  assert.ok(Object.isFrozen(check.bso));
  assert.equal(payloadByteLength(check.bso), Buffer.byteLength('héllo ✓'));
  // A copy is an ordinary input again: measured, and checked by storage.
  const copy = { ...check.bso };
  assert.equal(isCheckedBso(copy), false);
  assert.equal(payloadByteLength(copy), Buffer.byteLength('héllo ✓'));
  assert.equal(payloadByteLength({}), 0);
});

test('both validators take safe integers within the bounds, and refuse the same values', () => {
  const cases: Array<[unknown, boolean]> = [
    [0, true],
    [-0, true],
    [999_999_999, true],
    [-999_999_999, true],
    [1_000_000_000, false],
    [2 ** 53, false],
    [2 ** 53 + 1, false],
    [1e21, false],
    [1.5, false],
    [Number.NaN, false],
    [Number.POSITIVE_INFINITY, false],
    ['5', false],
  ];
  for (const [sortindex, ok] of cases) {
    assert.equal(checkBso({ id: 'a', sortindex }).ok, ok, `HTTP sortindex ${String(sortindex)}`);
    const storage = (): void => checkBsoFields({ id: 'a', sortindex: sortindex as number });
    if (ok) storage();
    else assert.throws(storage, StorageInputError, `storage sortindex ${String(sortindex)}`);
  }
  for (const [ttl, ok] of cases) {
    const expected = ok && (ttl as number) >= 0;
    assert.equal(checkBso({ id: 'a', ttl }).ok, expected, `HTTP ttl ${String(ttl)}`);
    const storage = (): void => checkBsoFields({ id: 'a', ttl: ttl as number });
    if (expected) storage();
    else assert.throws(storage, StorageInputError, `storage ttl ${String(ttl)}`);
  }
});
