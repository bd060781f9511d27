/**
 * Ketama compatibility with libmemcached 1.0.18: the vectors in
 * shared/vectors/ketama.json were produced by libmemcached itself (via pylibmc).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  KetamaRing,
  ketamaKeyHash,
  ketamaServerName,
  type KetamaDistribution,
} from '../src/ketama-ring.js';
import { parseServer } from '../src/client-options.js';

interface Vector {
  servers: string[];
  weights: number[];
  distribution: number[];
  key_to_server_index: Record<string, number>;
}

// A copy of shared/vectors/ketama.json (made through pylibmc); KETAMA_VECTORS overrides.
const vectorsPath =
  process.env.KETAMA_VECTORS ?? fileURLToPath(new URL('./vectors/ketama.json', import.meta.url));
const vectors = JSON.parse(readFileSync(vectorsPath, 'utf8')) as Record<string, Vector>;

function ringFor(vector: Vector, distribution: KetamaDistribution): KetamaRing {
  return new KetamaRing(
    vector.servers.map((address, i) => {
      const { host, port } = parseServer(address);
      return { ringName: ketamaServerName(host, port), weight: vector.weights[i] as number };
    }),
    distribution,
  );
}

function check(name: string, distribution: KetamaDistribution): void {
  const vector = vectors[name] as Vector;
  const ring = ringFor(vector, distribution);
  const counts = vector.servers.map(() => 0);
  const wrong: string[] = [];
  for (const [key, expected] of Object.entries(vector.key_to_server_index)) {
    const got = ring.serverFor(ketamaKeyHash(key));
    counts[got]!++;
    if (got !== expected) wrong.push(`${key}: ${got} != ${expected}`);
  }
  assert.deepEqual(wrong, [], `${wrong.length} keys placed differently from libmemcached`);
  assert.deepEqual(counts, vector.distribution);
}

describe('ketama ring (libmemcached compatible)', () => {
  test('ketama_md5_3_equal: 500 keys on the same servers as libmemcached', () => {
    check('ketama_md5_3_equal', 'ketama');
  });

  test('ketama_weighted_3_weights_1_2_3: 500 keys on the same servers as libmemcached', () => {
    check('ketama_weighted_3_weights_1_2_3', 'ketama-weighted');
  });

  test('weighted points are proportional to weight (160 per server baseline, 4 per hash)', () => {
    const servers = [1, 2, 3].map((w, i) => ({ ringName: `127.0.0.1:2130${i + 1}`, weight: w }));
    assert.equal(new KetamaRing(servers, 'ketama-weighted').size, 80 + 160 + 240);
    const equal = servers.map((s) => ({ ...s, weight: 1 }));
    assert.equal(new KetamaRing(equal, 'ketama-weighted').size, 3 * 160);
    assert.equal(new KetamaRing(equal, 'ketama').size, 3 * 100);
  });

  test('the default port 11211 is left out of point names, as libmemcached does', () => {
    assert.equal(ketamaServerName('cache1', 11211), 'cache1');
    assert.equal(ketamaServerName('cache1', 11212), 'cache1:11212');
  });

  test('with a server dead, its keys move to the next live server; the others stay', () => {
    const vector = vectors.ketama_weighted_3_weights_1_2_3 as Vector;
    const ring = ringFor(vector, 'ketama-weighted');
    const alive = (i: number) => i !== 2;
    let moved = 0;
    for (const key of Object.keys(vector.key_to_server_index)) {
      const home = ring.serverFor(ketamaKeyHash(key));
      const now = ring.serverFor(ketamaKeyHash(key), alive);
      if (home === 2) {
        assert.notEqual(now, 2);
        moved++;
      } else assert.equal(now, home, key);
    }
    assert.equal(moved, vector.distribution[2]);
    assert.equal(
      ring.serverFor(ketamaKeyHash('x'), () => false),
      -1,
    );
  });
});
