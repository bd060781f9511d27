/** Option parsing and validation of MemcachedClient (no server needed). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress, parseServer, resolveOptions } from '../src/client-options.js';
import { CacheInputError } from '../src/errors.js';

describe('MemcachedClient options', () => {
  test('server strings: host, port, weight, IPv6 in brackets', () => {
    assert.deepEqual(parseServer('cache1'), { host: 'cache1', port: 11211, weight: 1 });
    assert.deepEqual(parseServer('10.0.0.1:11212'), { host: '10.0.0.1', port: 11212, weight: 1 });
    assert.deepEqual(parseServer('h:1:5'), { host: 'h', port: 1, weight: 5 });
    assert.deepEqual(parseServer('[::1]:11213:2'), { host: '::1', port: 11213, weight: 2 });
    assert.deepEqual(parseServer({ host: 'o' }), { host: 'o', port: 11211, weight: 1 });
    assert.equal(formatAddress('::1', 11211), '[::1]:11211');
    assert.equal(formatAddress('127.0.0.1', 1), '127.0.0.1:1');
    for (const bad of ['', 'h:x', 'h:1:0', 'h:0', 'a b:1']) {
      assert.throws(() => parseServer(bad), CacheInputError, bad);
    }
  });

  test('defaults are documented values, validated once, and frozen', () => {
    const options = resolveOptions({ servers: ['h'] });
    assert.equal(options.poolSize, 1);
    assert.equal(options.connectTimeout, 1000);
    assert.equal(options.requestTimeout, 1000);
    assert.equal(options.retryInterval, 30_000);
    assert.equal(options.failureLimit, 2);
    assert.equal(options.failover, false);
    assert.equal(options.maxValueSize, 1024 * 1024);
    assert.equal(options.distribution, 'ketama-weighted');
    assert.equal(options.tls, undefined);
    assert.deepEqual(resolveOptions({ servers: ['h'], tls: true }).tls, {});
    assert.ok(Object.isFrozen(options));
    assert.throws(() => resolveOptions({ servers: ['h'], poolSize: 0 }), /poolSize/);
    assert.throws(
      () => resolveOptions({ servers: ['h'], distribution: 'modula' as never }),
      /distribution/,
    );
  });
});
