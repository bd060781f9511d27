/**
 * One server of `npm run bench:token`, in its own process: `ceiling` (bare
 * Fastify answering a fixed JSON object shaped like a token answer) or
 * `token` (the token server alone on a fresh SQLite file, FxA keys given as
 * a local JWK, one storage node). Sends `{port}` over IPC when listening.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { JWK } from 'jose';
import { openSqlDriver } from '../src/sql/open-sql-driver.js';
import { createTokenserver } from '../src/tokenserver/index.js';
import { buildTokenserverApp } from '../src/tokenserver/tokenserver-app.js';

const kind = process.argv[2];
let app;
if (kind === 'ceiling') {
  app = Fastify({ logger: false });
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
} else {
  const dir = mkdtempSync(join(tmpdir(), 'bench-token-'));
  const driver = await openSqlDriver({ url: `sqlite:${join(dir, 'tokens.db')}` });
  const tokenserver = await createTokenserver({
    driver,
    ownsDriver: true,
    config: {
      masterSecret: process.env.BENCH_SECRET ?? 'bench',
      jwks: [JSON.parse(process.env.BENCH_JWK ?? '{}') as JWK],
      oauthServerUrl: 'http://127.0.0.1:9',
    },
  });
  await tokenserver.store.ensureNode('http://127.0.0.1:9', 100_000, false);
  app = buildTokenserverApp({ tokenserver, version: 'bench' });
}
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
