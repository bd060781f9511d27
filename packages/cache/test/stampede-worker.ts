/**
 * One process of the multi-process stampede test (`stampede-processes.test.ts`).
 * argv: address version key calls loaderDelayMs. Prints "ready", waits for a
 * line on stdin, fires `calls` concurrent getOrSet calls, prints a JSON report.
 */
import { createInterface } from 'node:readline';
import { Cache } from '../src/index.js';
import { MemcachedClient } from '@syncstorage-ts/memcache';

const [address = '', version = '', key = '', calls = '50', delay = '300'] = process.argv.slice(2);
const store = new MemcachedClient({ servers: [address] });
const cache = new Cache({ store, version });
let loaderCalls = 0;

const loader = async (): Promise<string> => {
  loaderCalls++;
  // Counted on the server too, so the parent sees calls from any process.
  await store.incr('stampede-loader-calls', 1, { initial: 1 });
  await new Promise((resolve) => setTimeout(resolve, Number(delay)));
  return `fresh-${process.pid}`;
};

process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
lines.once('line', () => {
  void (async () => {
    const results = await Promise.all(
      Array.from({ length: Number(calls) }, () => cache.getOrSet(key, loader)),
    );
    const values: Record<string, number> = {};
    for (const value of results) values[value] = (values[value] ?? 0) + 1;
    process.stdout.write(`${JSON.stringify({ pid: process.pid, loaderCalls, values })}\n`);
    lines.close();
    await store.close();
  })();
});
