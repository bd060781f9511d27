/** Degraded mode (seed 003 "keeps working while the server is down"), through a chaos wrapper. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { recordingLogger, type ToolkitContext } from './toolkit-context.js';
import { chaosStore } from './chaos-store.js';

export function registerDegradedTests(ctx: ToolkitContext): void {
  describe('degraded mode', () => {
    test('while the store is down nothing throws, reads miss, writes report false, one log line', async () => {
      const chaos = chaosStore(ctx.store);
      const logger = recordingLogger();
      const cache = ctx.isolatedCache({ trackKeys: true, logger }, chaos.store);
      await cache.set('kept', 'before');

      chaos.down = true;
      assert.equal(await cache.set('cached value', 'cache_object'), false);
      assert.equal(await cache.get('cached value'), undefined);
      assert.equal(await cache.get('kept'), undefined);
      assert.equal(await cache.add('x', 1), false);
      assert.deepEqual(await cache.getMany(['a', 'b']), [undefined, undefined]);
      let loads = 0;
      for (let i = 0; i < 3; i++) {
        assert.equal(await cache.getOrSet('g', () => ++loads), i + 1, 'getOrSet calls the loader');
      }
      await cache.invalidate('kept');
      await cache.invalidateAll();
      await cache.invalidateGroup('g');
      await cache.invalidateDependencies(['d']);
      assert.deepEqual(await cache.keys(), []);
      assert.deepEqual((await cache.stats()).servers, {});
      assert.equal(await cache.flush(), false);
      assert.equal(cache.degraded, true);
      assert.equal(logger.lines.length, 1, 'one line per outage, not per call');
      assert.match(logger.lines[0]?.msg ?? '', /unreachable/);
      assert.equal(logger.lines[0]?.obj.code, 'CACHE_UNAVAILABLE');

      chaos.down = false;
      assert.equal(await cache.get('kept'), 'before', 'recovers by itself');
      assert.equal(cache.degraded, false);
      assert.equal(logger.lines.length, 2);
      assert.match(logger.lines[1]?.msg ?? '', /again/);
      assert.equal(await cache.set('after', 1), true);
      assert.ok((await cache.stats()).counters.errors > 0);
    });

    test('caller mistakes still throw while degraded', async () => {
      const chaos = chaosStore(ctx.store);
      chaos.down = true;
      const cache = ctx.isolatedCache({}, chaos.store);
      await assert.rejects(
        cache.set(() => 1, 1),
        { code: 'CACHE_KEY' },
      );
    });
  });
}
