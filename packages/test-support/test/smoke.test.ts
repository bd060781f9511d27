import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startMemcached } from '../src/memcached-server.js';
import { startPostgres } from '../src/postgres-server.js';

// The test setup itself: both real servers start, answer, and stop.

test('a real memcached starts on a loopback port and answers', async () => {
  const mc = await startMemcached();
  after(() => mc.stop());
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect(mc.port, mc.host, () => socket.write('version\r\n'));
    socket.once('data', (d) => {
      resolve(d.toString());
      socket.destroy();
    });
    socket.once('error', reject);
  });
  assert.match(reply, /^VERSION 1\.6\./);
});

test('a real PostgreSQL starts in a temporary directory and answers', async () => {
  const server = await startPostgres();
  after(() => server.stop());
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const result = await client.query<{ n: number }>('SELECT 1 + 1 AS n');
  await client.end();
  assert.equal(result.rows[0]?.n, 2);
});
