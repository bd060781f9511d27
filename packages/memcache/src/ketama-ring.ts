/**
 * Ketama consistent hashing, point for point compatible with libmemcached
 * 1.0.18 (checked against `test/vectors/ketama.json`, a copy of shared/vectors produced through pylibmc):
 *
 * - `ketama-weighted` (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, libketama's scheme):
 *   a server gets floor(weight/total × 40 × servers) × 4 points, computed in
 *   32-bit floats as libmemcached does. Point names are "host:port-N" (N from
 *   0; the ":port" is left out when the port is 11211), and each MD5 digest of
 *   a name yields four points, its 4-byte little-endian words.
 * - `ketama` (MEMCACHED_BEHAVIOR_KETAMA with MD5 hashing): 100 points per
 *   server, one per name, the digest's first little-endian word; weights are
 *   ignored.
 *
 * A key's hash is the first little-endian word of MD5(key); it belongs to the
 * first point at or after it, wrapping to the first point.
 */
import { createHash } from 'node:crypto';

export type KetamaDistribution = 'ketama-weighted' | 'ketama';

export interface RingServer {
  /** The server's name on the ring: "host:port" (or "host" for port 11211). */
  readonly ringName: string;
  readonly weight: number;
}

const MEMCACHED_DEFAULT_PORT = 11211;
const POINTS_PER_SERVER = 100;
const POINTS_PER_SERVER_KETAMA = 160;
const POINTS_PER_HASH_WEIGHTED = 4;

/** The name libmemcached hashes for a server's points. */
export function ketamaServerName(host: string, port: number): string {
  return port === MEMCACHED_DEFAULT_PORT ? host : `${host}:${port}`;
}

/** MD5's first 32-bit word, little-endian: libmemcached's `hashkit_md5`. */
export function ketamaKeyHash(key: string | Buffer): number {
  return createHash('md5').update(key).digest().readUInt32LE(0);
}

function pointsFor(server: RingServer, totalWeight: number, count: number, weighted: boolean) {
  if (!weighted) return POINTS_PER_SERVER;
  const f = Math.fround;
  const pct = f(server.weight / totalWeight);
  // libmemcached: floor((float)(pct * 160 / 4 * live_servers + 0.0000000001)) * 4
  const perHashes = Math.floor(f(f(f(pct * (POINTS_PER_SERVER_KETAMA / 4)) * count) + 1e-10));
  return perHashes * POINTS_PER_HASH_WEIGHTED;
}

export class KetamaRing {
  /** Sorted point values and, at the same index, the server index owning them. */
  private readonly values: Uint32Array;
  private readonly owners: Uint16Array;

  constructor(
    servers: readonly RingServer[],
    distribution: KetamaDistribution = 'ketama-weighted',
  ) {
    if (servers.length === 0) throw new RangeError('a ketama ring needs at least one server');
    const weighted = distribution === 'ketama-weighted';
    const totalWeight = servers.reduce((sum, s) => sum + s.weight, 0);
    const points: Array<[number, number]> = [];
    servers.forEach((server, index) => {
      const perHash = weighted ? POINTS_PER_HASH_WEIGHTED : 1;
      const names = pointsFor(server, totalWeight, servers.length, weighted) / perHash;
      for (let n = 0; n < names; n++) {
        const digest = createHash('md5').update(`${server.ringName}-${n}`).digest();
        for (let word = 0; word < perHash; word++)
          points.push([digest.readUInt32LE(word * 4), index]);
      }
    });
    // Stable sort by value; libmemcached's qsort leaves ties in no defined order.
    points.sort((a, b) => a[0] - b[0]);
    this.values = Uint32Array.from(points, (p) => p[0]);
    this.owners = Uint16Array.from(points, (p) => p[1]);
  }

  /** Number of points on the ring. */
  get size(): number {
    return this.values.length;
  }

  /**
   * Index of the server owning `hash`. With `isAlive`, walks on along the ring
   * past dead servers' points (what libmemcached's ring rebuilt without them
   * would answer); returns -1 when no server is alive.
   */
  serverFor(hash: number, isAlive?: (server: number) => boolean): number {
    const values = this.values;
    let lo = 0;
    let hi = values.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((values[mid] as number) < hash) lo = mid + 1;
      else hi = mid;
    }
    if (lo === values.length) lo = 0;
    const first = this.owners[lo] as number;
    if (!isAlive || isAlive(first)) return first;
    for (let step = 1; step < values.length; step++) {
      const owner = this.owners[(lo + step) % values.length] as number;
      if (owner !== first && isAlive(owner)) return owner;
    }
    return -1;
  }
}
