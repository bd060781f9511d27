// `syncstorage tokenserver`'s app logs one line per request (not Fastify's
// two), with the route pattern and status, and never the Bearer token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { openSqlDriver } from '../../src/sql/open-sql-driver.js';
import { createLogger } from '../../src/server/logging/logger.js';
import { createTokenserver, type Tokenserver } from '../../src/tokenserver/index.js';
import { buildTokenserverApp } from '../../src/tokenserver/tokenserver-app.js';
import { FakeFxa } from './support/fake-fxa.js';
import { keyId } from './support/tokenserver-harness.js';

describe('standalone token server request lines', () => {
  let fxa: FakeFxa;
  let tokenserver: Tokenserver;
  before(async () => {
    fxa = await FakeFxa.start();
    tokenserver = await createTokenserver({
      driver: await openSqlDriver({ url: 'sqlite::memory:' }),
      ownsDriver: true,
      config: { masterSecret: 'log test', oauthServerUrl: fxa.url, jwks: [fxa.publicJwk] },
    });
    await tokenserver.store.ensureNode('http://node.example.test', 10, false);
  });
  after(async () => {
    await tokenserver.close();
    await fxa.stop();
  });

  test('one line per request, without the token', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line));
        done();
      },
    });
    const app = buildTokenserverApp({
      tokenserver,
      logger: createLogger({ destination }),
      version: 'test',
    });
    const accessToken = await fxa.accessToken({ fxaUid: 'a'.repeat(32) });
    const ok = await app.inject({
      url: '/1.0/sync/1.5',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'x-keyid': keyId(1_700_000_000_000, 'abcd'),
      },
    });
    assert.equal(ok.statusCode, 200);
    const refused = await app.inject({ url: '/1.0/sync/1.5' });
    assert.equal(refused.statusCode, 401);
    await app.close();
    const requests = lines.filter((line) => line.msg === 'request');
    assert.deepEqual(
      requests.map(({ route, status, method }) => ({ route, status, method })),
      [
        { route: '/1.0/:application/:version', status: 200, method: 'GET' },
        { route: '/1.0/:application/:version', status: 401, method: 'GET' },
      ],
    );
    assert.equal(
      lines.filter((line) => /request completed|incoming request/.test(String(line.msg))).length,
      0,
    );
    assert.ok(!JSON.stringify(lines).includes(accessToken.split('.')[2]!));
  });
});
