/**
 * TLS (memcached -Z with a self-signed certificate made here by openssl) and
 * text-protocol authentication (memcached -Y with a user:password file),
 * against Debian's real memcached.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheUnavailableError, MemcachedClient } from '../src/index.js';
import {
  memcachedBinary,
  startMemcached,
  type MemcachedServer,
} from '@syncstorage-ts/test-support';

function memcachedHasTls(): boolean {
  try {
    return /enable-ssl/.test(execFileSync(memcachedBinary(), ['-h'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'memcached-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const tlsSkip = !memcachedHasTls()
  ? 'this memcached was built without TLS (-Z)'
  : !opensslAvailable()
    ? 'openssl is not installed'
    : false;

describe('TLS (memcached -Z)', { skip: tlsSkip }, () => {
  let server: MemcachedServer;
  let ca: Buffer;
  before(async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    execFileSync('chmod', ['644', key, cert]); // memcached drops to "nobody" when run as root
    execFileSync('chmod', ['755', dir]);
    ca = readFileSync(cert);
    server = await startMemcached({
      args: ['-Z', '-o', `ssl_chain_cert=${cert},ssl_key=${key}`],
    });
  });
  after(async () => {
    await server?.stop();
  });

  test('a client with tls and the CA talks to memcached over TLS', async () => {
    const client = new MemcachedClient({ servers: [server.address], tls: { ca } });
    try {
      assert.equal(await client.set('secure', { ok: true }), true);
      assert.deepEqual(await client.get('secure'), { ok: true });
      assert.deepEqual(await client.getMulti(['secure', 'nope']), [{ ok: true }, undefined]);
      const stats = await client.stats();
      assert.ok(Number(stats[server.address]?.ssl_new_sessions ?? '0') >= 0);
    } finally {
      await client.close();
    }
  });

  test('a certificate the client does not trust fails with CacheUnavailableError', async () => {
    const client = new MemcachedClient({ servers: [server.address], tls: true });
    try {
      await assert.rejects(client.get('secure'), CacheUnavailableError);
    } finally {
      await client.close();
    }
  });

  test('a plain-TCP client cannot talk to a TLS server and fails, without hanging', async () => {
    const client = new MemcachedClient({ servers: [server.address], requestTimeout: 500 });
    try {
      await assert.rejects(client.get('secure'));
    } finally {
      await client.close();
    }
  });
});

describe('authentication (memcached -Y)', () => {
  let server: MemcachedServer;
  before(async () => {
    const authFile = join(dir, 'auth');
    writeFileSync(authFile, 'alice:s3cret\nbob:other\n', { mode: 0o644 });
    execFileSync('chmod', ['755', dir]);
    server = await startMemcached({ args: ['-Y', authFile] });
  });
  after(async () => {
    await server?.stop();
  });

  test('the right user and password: every command works, on every new connection', async () => {
    const client = new MemcachedClient({
      servers: [server.address],
      auth: { username: 'alice', password: 's3cret' },
      poolSize: 2,
    });
    try {
      const keys = Array.from({ length: 20 }, (_, i) => `auth:${i}`);
      await Promise.all(keys.map((k) => client.set(k, k)));
      assert.deepEqual(await Promise.all(keys.map((k) => client.get(k))), keys);
      assert.deepEqual(await client.getMulti(keys), keys);
    } finally {
      await client.close();
    }
  });

  test('a wrong password fails with CacheUnavailableError naming the auth option, not the secret', async () => {
    const client = new MemcachedClient({
      servers: [server.address],
      auth: { username: 'alice', password: 'wrong-password' },
    });
    try {
      await assert.rejects(client.get('k'), (error: unknown) => {
        assert.ok(error instanceof CacheUnavailableError);
        assert.match(error.message, /authentication failed \(option auth\)/);
        assert.doesNotMatch(error.message, /wrong-password/);
        return true;
      });
    } finally {
      await client.close();
    }
  });

  test('no credentials: memcached refuses the commands', async () => {
    const client = new MemcachedClient({ servers: [server.address] });
    try {
      await assert.rejects(client.get('k'));
    } finally {
      await client.close();
    }
  });
});
