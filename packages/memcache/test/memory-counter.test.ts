/**
 * memcached's counter rules as the in-process store applies them to stored
 * bytes (checked by hand against memcached 1.6.18 with `ma`).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDelta, counterBytes, parseCounter, toUnsigned64 } from '../src/memory-counter.js';
import { CacheInputError } from '../src/errors.js';

const parse = (text: string): bigint | undefined => parseCounter(Buffer.from(text, 'latin1'));

describe('memory counters', () => {
  test('parses what strtoull accepts, as memcached does', () => {
    assert.equal(parse('0'), 0n);
    assert.equal(parse('007'), 7n); // ms z 3 / 007, ma z → 8
    assert.equal(parse(' 12'), 12n); // leading space: ma → 13
    assert.equal(parse('12 '), 12n); // trailing space (memcached's own padding)
    assert.equal(parse('+5'), 5n);
    assert.equal(parse('18446744073709551615'), (1n << 64n) - 1n);
  });

  // ' ' is refused too: memcached 1.6.18 reads past a blank item (ms w 1 / ' ',
  // ma w gave 4 here), which is undefined behaviour, not a rule.
  test('refuses what memcached calls non-numeric, and blank values', () => {
    for (const text of ['', ' ', 'abc', '12x', '-1', '1.5', '18446744073709551616', '"5"']) {
      assert.equal(parse(text), undefined, JSON.stringify(text));
    }
  });

  test('incr wraps at 2^64, decr floors at 0', () => {
    const max = (1n << 64n) - 1n;
    assert.equal(applyDelta(max, 1n, true), 0n);
    assert.equal(applyDelta(max, max, true), max - 1n);
    assert.equal(applyDelta(5n, 10n, false), 0n);
    assert.equal(applyDelta(5n, 5n, false), 0n);
    assert.equal(applyDelta(5n, 2n, false), 3n);
  });

  test('a shorter result is padded in place to the old length', () => {
    assert.equal(counterBytes(Buffer.from('10'), 9n).toString(), '9 ');
    assert.equal(counterBytes(Buffer.from('1000'), 7n).toString(), '7   ');
    assert.equal(counterBytes(Buffer.from('9 '), 10n).toString(), '10');
    assert.equal(counterBytes(Buffer.from('99'), 100n).toString(), '100');
  });

  test('deltas and initial values are unsigned 64-bit integers', () => {
    assert.equal(toUnsigned64(0, 'delta'), 0n);
    assert.equal(toUnsigned64(2 ** 53, 'delta'), 2n ** 53n);
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 64]) {
      assert.throws(() => toUnsigned64(bad, 'delta'), CacheInputError, String(bad));
    }
  });
});
