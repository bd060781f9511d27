/**
 * The cache toolkit suite: every example of the lovely.memcached doctest
 * (seed 003) and every behaviour of the MintCache backend (seed 002), plus the
 * seed bugs pinned, run against any `CacheStore`. Each implementation calls
 * `registerCacheToolkitSuite` from a short spec.
 */
import { after, before, beforeEach, describe } from 'node:test';
import { ToolkitContext, type CacheToolkitSuiteOptions } from './toolkit-context.js';
import { registerKeyTests } from './suite-keys.js';
import { registerInvalidationTests } from './suite-invalidation.js';
import { registerTrackingTests } from './suite-tracking.js';
import { registerStampedeTests } from './suite-stampede.js';
import { registerDegradedTests } from './suite-degraded.js';
import { registerEventTests } from './suite-events.js';

export type { CacheToolkitSuiteOptions } from './toolkit-context.js';

export function registerCacheToolkitSuite(options: CacheToolkitSuiteOptions): void {
  describe(`cache toolkit over ${options.name}`, () => {
    const ctx = new ToolkitContext(options.capabilities);
    before(async () => {
      ctx.fixture = await options.setup();
    });
    after(() => ctx.fixture.close());
    beforeEach(() => ctx.reset());

    registerKeyTests(ctx);
    registerInvalidationTests(ctx);
    registerTrackingTests(ctx);
    registerStampedeTests(ctx);
    registerDegradedTests(ctx);
    registerEventTests(ctx);
  });
}
