/**
 * One server of `npm run bench:token`, in its own process, as built
 * (`dist/`, plain Node without the TypeScript loader): `ceiling` (bare
 * Fastify answering a fixed JSON object shaped like a token answer) or
 * `token` (the token server alone as `syncstorage tokenserver` runs it: its
 * app with the buffered JSON logger, on a fresh SQLite file, FxA keys given
 * as a local JWK, one storage node). Sends `{port}` over IPC when listening.
 *
 * Usage (from bench/token.bench.ts): node bench/token-bench-server.mjs ceiling|token
 * with BENCH_SECRET, BENCH_JWK (JSON) and BENCH_DIR (a scratch folder) for token;
 * BENCH_NO_LOG=1 leaves the logger out.
 */
import { join } from 'node:path';

async function buildServer(kind) {
  const { default: Fastify } = await import('fastify');
  if (kind === 'ceiling') {
    const app = Fastify({ logger: false });
    const body = JSON.stringify({
      id: 'x'.repeat(300),
      key: 'y'.repeat(44),
      uid: 1,
      api_endpoint: 'http://127.0.0.1:9/1.5/1',
      duration: 3600,
      hashed_fxa_uid: 'z'.repeat(32),
      hashalg: 'sha256',
      node_type: 'sqlite',
    });
    app.get('/1.0/sync/1.5', async (_request, reply) => reply.type('application/json').send(body));
    return app;
  }
  const dist = new URL('../dist/', import.meta.url);
  const load = (path) => import(new URL(path, dist).href);
  const { openSqlDriver } = await load('sql/open-sql-driver.js');
  const { createTokenserver } = await load('tokenserver/index.js');
  const { buildTokenserverApp } = await load('tokenserver/tokenserver-app.js');
  const { createLogger } = await load('server/logging/logger.js');
  const driver = await openSqlDriver({ url: `sqlite:${join(process.env.BENCH_DIR, 'tokens.db')}` });
  const tokenserver = await createTokenserver({
    driver,
    ownsDriver: true,
    config: {
      masterSecret: process.env.BENCH_SECRET,
      jwks: [JSON.parse(process.env.BENCH_JWK)],
      oauthServerUrl: 'http://127.0.0.1:9',
    },
  });
  await tokenserver.store.ensureNode('http://127.0.0.1:9', 100_000, false);
  // Logs go to stdout, which the parent sends to /dev/null: the cost of the
  // request lines is part of the measurement, as with `syncstorage tokenserver`.
  const logger = process.env.BENCH_NO_LOG ? undefined : createLogger({ buffered: true });
  return buildTokenserverApp({ tokenserver, logger, version: 'bench' });
}

const app = await buildServer(process.argv[2] ?? 'token');
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
