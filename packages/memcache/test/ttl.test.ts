/** memcached's expiration-time rules (protocol.txt, "Expiration times"). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_RELATIVE_TTL,
  expiresAtMs,
  isExpired,
  remainingSeconds,
  validateTtl,
} from '../src/ttl.js';
import { CacheInputError } from '../src/errors.js';

const NOW = Date.UTC(2026, 0, 1);

describe('TTL rules', () => {
  test('0 is never; up to 30 days is relative; beyond is absolute Unix time', () => {
    assert.equal(expiresAtMs(0, NOW), 0);
    assert.equal(expiresAtMs(1, NOW), NOW + 1000);
    assert.equal(expiresAtMs(MAX_RELATIVE_TTL, NOW), NOW + MAX_RELATIVE_TTL * 1000);
    assert.equal(expiresAtMs(MAX_RELATIVE_TTL + 1, NOW), (MAX_RELATIVE_TTL + 1) * 1000);
    assert.equal(expiresAtMs(NOW / 1000 + 60, NOW), NOW + 60_000);
  });

  test('an absolute time in the past is expired, never "no expiry"', () => {
    const past = expiresAtMs(MAX_RELATIVE_TTL + 1, NOW);
    assert.notEqual(past, 0);
    assert.equal(isExpired(past, NOW), true);
    assert.equal(isExpired(0, NOW), false);
    assert.equal(isExpired(NOW + 1, NOW), false);
    assert.equal(isExpired(NOW, NOW), true);
  });

  test('remaining seconds round up; -1 means never', () => {
    assert.equal(remainingSeconds(0, NOW), -1);
    assert.equal(remainingSeconds(NOW + 10_000, NOW), 10);
    assert.equal(remainingSeconds(NOW + 9_001, NOW), 10);
    assert.equal(remainingSeconds(NOW + 1, NOW), 1);
    assert.equal(remainingSeconds(NOW - 5_000, NOW), 0);
  });

  test('negative, fractional, non-finite and too large TTLs are refused', () => {
    for (const bad of [-1, 0.5, Number.NaN, Infinity, 2 ** 32]) {
      assert.throws(() => validateTtl(bad), CacheInputError, String(bad));
    }
    assert.throws(() => expiresAtMs(-1, NOW, 'vivifyTtl'), /vivifyTtl/);
    assert.equal(validateTtl(2 ** 32 - 1), 2 ** 32 - 1);
  });
});
