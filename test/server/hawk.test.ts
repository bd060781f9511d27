import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  buildHawkHeader,
  computeMac,
  macEquals,
  parseHawkHeader,
} from '../../src/server/auth/hawk.js';
import { requestOrigin } from '../../src/server/auth/request-origin.js';
import { NonceCache } from '../../src/server/auth/nonce-cache.js';

interface HawkVector {
  method: string;
  url: string;
  id: string;
  key: string;
  ts: string;
  nonce: string;
  authorization: string;
}

const vectors = (
  JSON.parse(readFileSync(new URL('../vectors/auth.json', import.meta.url), 'utf8')) as {
    hawk: HawkVector[];
  }
).hawk;

function signingInput(v: HawkVector) {
  const url = new URL(v.url);
  return {
    method: v.method,
    resource: url.pathname + url.search,
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    ts: v.ts,
    nonce: v.nonce,
  };
}

describe('Hawk headers (vectors from hawkauthlib)', () => {
  for (const v of vectors) {
    test(`${v.method} ${v.url}: reproduces the header exactly`, () => {
      assert.equal(buildHawkHeader(v.id, v.key, signingInput(v)), v.authorization);
    });

    test(`${v.method} ${v.url}: parses the header and its MAC verifies`, () => {
      const attrs = parseHawkHeader(v.authorization);
      assert.ok(attrs);
      assert.equal(attrs.id, v.id);
      assert.equal(attrs.ts, v.ts);
      assert.equal(attrs.nonce, v.nonce);
      assert.ok(macEquals(attrs.mac, computeMac(v.key, signingInput(v))));
      const otherHost = { ...signingInput(v), host: 'evil.example' };
      assert.equal(macEquals(attrs.mac, computeMac(v.key, otherHost)), false);
    });
  }

  test('refuses malformed headers', () => {
    for (const header of [
      undefined,
      '',
      'Basic abc',
      'Hawk',
      'Hawk id="a", ts="1", nonce="n"',
      'Hawk id="a", ts="x", nonce="n", mac="m"',
      'Hawk id="a", id="b", ts="1", nonce="n", mac="m"',
      'Hawk id="a", ts="1", nonce="n", mac="m", bogus="z"',
      'Hawk id="a" ts="1"',
      'Hawk id="a\\"", ts="1", nonce="n", mac="m"',
    ]) {
      assert.equal(parseHawkHeader(header), undefined, String(header));
    }
  });
});

describe('request origin for the MAC', () => {
  const headers = {
    host: 'internal:8000',
    'x-forwarded-host': 'sync.example.com',
    'x-forwarded-proto': 'https',
  };

  test('ignores X-Forwarded-* unless the proxy is trusted', () => {
    assert.deepEqual(requestOrigin(headers, false, false), {
      host: 'internal',
      port: 8000,
      scheme: 'http',
    });
    assert.deepEqual(requestOrigin(headers, false, true), {
      host: 'sync.example.com',
      port: 443,
      scheme: 'https',
    });
    assert.deepEqual(requestOrigin({ ...headers, 'x-forwarded-port': '8443' }, false, true), {
      host: 'sync.example.com',
      port: 8443,
      scheme: 'https',
    });
  });

  test('default ports, IPv6 and a missing host', () => {
    assert.deepEqual(requestOrigin({ host: 'a.b' }, false, false), {
      host: 'a.b',
      port: 80,
      scheme: 'http',
    });
    assert.deepEqual(requestOrigin({ host: 'a.b' }, true, false), {
      host: 'a.b',
      port: 443,
      scheme: 'https',
    });
    assert.deepEqual(requestOrigin({ host: '[::1]:81' }, false, false), {
      host: '::1',
      port: 81,
      scheme: 'http',
    });
    assert.equal(requestOrigin({}, false, false), undefined);
    assert.equal(requestOrigin({ host: 'a:b' }, false, false), undefined);
  });
});

describe('nonce cache', () => {
  test('refuses a nonce seen within the window, forgets it after', () => {
    let now = 1_000_000;
    const cache = new NonceCache({ windowSeconds: 60, clock: () => now });
    const ts = Math.floor(now / 1000);
    assert.equal(cache.checkAndAdd(ts, 'a'), true);
    assert.equal(cache.checkAndAdd(ts, 'a'), false);
    assert.equal(cache.checkAndAdd(ts, 'b'), true);
    assert.equal(cache.checkAndAdd(ts + 1, 'a'), true, 'another ts, another request');
    // Still refused while its ts is acceptable, from either side of it.
    now += 60_000;
    assert.equal(cache.checkAndAdd(ts, 'a'), false);
    // Once its ts is out of the window (such requests are refused as stale
    // first), the bucket is gone.
    now += 1_000;
    assert.equal(cache.checkAndAdd(ts + 61, 'c'), true);
    assert.equal(cache.size, 2, 'the ts bucket out of the window was dropped');
    assert.equal(cache.checkAndAdd(ts + 1, 'a'), false);
  });

  test('stays bounded, forgetting the oldest ts first', () => {
    const cache = new NonceCache({ windowSeconds: 60, maxEntries: 3, clock: () => 1_000_000 });
    assert.equal(cache.checkAndAdd(1001, 'x'), true);
    for (const key of ['a', 'b', 'c']) assert.equal(cache.checkAndAdd(1000, key), true);
    assert.equal(cache.size, 3);
    assert.equal(cache.checkAndAdd(1001, 'x'), false, 'the newer ts kept');
    assert.equal(cache.checkAndAdd(1000, 'a'), true, 'the oldest entry of the oldest ts forgotten');
  });
});
