import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LatencySamples } from '../../src/loadtest/latency-samples.js';
import { LoadOptionsError, resolveLoadOptions } from '../../src/loadtest/load-options.js';
import { RandomSource } from '../../src/loadtest/random-source.js';
import { RecordFactory } from '../../src/loadtest/record-factory.js';

describe('load generator primitives', () => {
  test('percentiles are nearest-rank over every sample', () => {
    const samples = new LatencySamples();
    for (let i = 2000; i >= 1; i--) samples.add(i);
    assert.equal(samples.count, 2000);
    assert.equal(samples.percentile(50), 1000);
    assert.equal(samples.percentile(99), 1980);
    assert.equal(samples.max(), 2000);
    assert.equal(new LatencySamples().percentile(99), 0);
  });

  test('a seed repeats the same request mix', () => {
    const a = new RandomSource(42);
    const b = new RandomSource(42);
    const draws = (r: RandomSource) =>
      Array.from({ length: 50 }, () => r.weighted([71, 15, 7, 4, 3]));
    assert.deepEqual(draws(a), draws(b));
    assert.notDeepEqual(draws(new RandomSource(1)), draws(new RandomSource(2)));
  });

  test('weighted choice follows the weights', () => {
    const random = new RandomSource(7);
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 20_000; i++) counts[random.weighted([71, 15, 7, 4, 3])]!++;
    assert.ok(Math.abs(counts[0]! / 20_000 - 0.71) < 0.02, String(counts));
    assert.ok(Math.abs(counts[4]! / 20_000 - 0.03) < 0.01, String(counts));
  });

  test('sample gives distinct items', () => {
    const random = new RandomSource(3);
    for (let i = 0; i < 100; i++) {
      const picked = random.sample(['a', 'b', 'c', 'd', 'e'], 4);
      assert.equal(new Set(picked).size, 4);
    }
  });

  test('payloads are heavy-tailed between 300 and 7000 bytes, and all distinct', () => {
    const factory = new RecordFactory(new RandomSource(11));
    const records = factory.records(5000);
    const lengths = records.map((r) => r.payload.length);
    assert.ok(Math.min(...lengths) >= 300);
    assert.ok(Math.max(...lengths) <= 7000);
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    assert.ok(mean > 400 && mean < 500, `mean ${mean}`);
    assert.ok(
      lengths.some((n) => n > 1500),
      'a tail',
    );
    assert.equal(new Set(records.map((r) => r.payload)).size, 5000);
    assert.equal(new Set(records.map((r) => r.id)).size, 5000);
    assert.ok(records.every((r) => /^[A-Za-z0-9_-]{13,64}$/.test(r.id)));
  });

  test('options are validated and name the flag', () => {
    assert.throws(
      () => resolveLoadOptions({ url: 'ftp://x', secret: 's' }),
      (e: unknown) => e instanceof LoadOptionsError && e.option === 'url',
    );
    assert.throws(() => resolveLoadOptions({ url: 'http://x', secret: '' }), /--secret/);
    assert.throws(
      () => resolveLoadOptions({ url: 'http://x', secret: 's', concurrency: 0 }),
      /--concurrency/,
    );
    assert.throws(
      () => resolveLoadOptions({ url: 'http://x', secret: 's', firstUid: 9_999_999_999, users: 2 }),
      /--first-uid/,
    );
    const resolved = resolveLoadOptions({ url: 'http://127.0.0.1:8000/', secret: 's' });
    assert.equal(resolved.url, 'http://127.0.0.1:8000');
    assert.ok(Object.isFrozen(resolved));
  });
});
