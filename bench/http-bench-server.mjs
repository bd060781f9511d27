/**
 * The server side of `npm run bench:http`, one per child process: the
 * SyncStorage server as built (`dist/`, what `npm start` runs, plain Node
 * without the TypeScript loader), or a bare Fastify app with one fixed JSON
 * route (the framework ceiling). Sends its port to the parent over IPC.
 *
 * Usage (from bench/http.bench.ts): node bench/http-bench-server.mjs bare|sync|embedded
 * with BENCH_SECRET=<master secret> and BENCH_DB=<sqlite file> for sync/embedded.
 */

async function buildServer(kind) {
  const { default: Fastify } = await import('fastify');
  if (kind === 'bare') {
    const app = Fastify({ logger: false });
    const fixed = { bookmarks: 1700000000.12, history: 1700000001.34, meta: 1700000002.56 };
    app.get('/json', async () => fixed);
    return app;
  }
  const dist = new URL('../dist/', import.meta.url);
  const { buildApp } = await import(new URL('server/app.js', dist).href);
  const { createLogger } = await import(new URL('server/logging/logger.js', dist).href);
  const { openSqlStorage } = await import(new URL('storage/sql/index.js', dist).href);
  let storage = await openSqlStorage({ url: `sqlite:${process.env.BENCH_DB}` });
  // `embedded`: what `syncstorage serve` runs on by default — the same
  // SQLite under the cached layer with the in-process store, which answers
  // info/collections from its metadata entry without SQL.
  if (kind === 'embedded') {
    const { createCachedStorage } = await import(new URL('storage/cached/index.js', dist).href);
    const { MemoryStore } = await import(new URL('memcache/index.js', dist).href);
    storage = createCachedStorage({
      storage,
      cache: new MemoryStore(),
      cachedCollections: ['meta', 'clients'],
      cacheOnlyCollections: [],
    });
  }
  // Logs go to stdout, which the parent sends to /dev/null: the cost of
  // one JSON line per request is part of the measurement.
  return buildApp({
    storage,
    config: { masterSecret: process.env.BENCH_SECRET },
    ...(process.env.BENCH_NO_LOG ? {} : { logger: createLogger({ buffered: true }) }),
  });
}

const app = await buildServer(process.argv[2] ?? 'sync');
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
