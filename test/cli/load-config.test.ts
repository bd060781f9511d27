import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliConfigError, loadServeConfig } from '../../src/cli/config/load-config.js';
import { loadOrCreateMasterSecret } from '../../src/cli/config/master-secret.js';

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sync-cli-')), 'config.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('serve configuration', () => {
  test('embedded defaults', () => {
    const config = loadServeConfig({ flags: {}, env: {} });
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8000);
    assert.equal(config.database, 'sqlite:data/syncstorage.db');
    assert.equal(config.cache, 'memory');
    assert.deepEqual(config.cachedCollections, ['meta', 'clients']);
    // The in-process cache dies with the process: tabs stay in the database.
    assert.deepEqual(config.cacheOnlyCollections, []);
    assert.equal(config.memcachedRetrySeconds, 2);
    assert.equal(config.quotaBytes, null);
    assert.equal(config.masterSecret, null);
    assert.ok(Object.isFrozen(config));
  });

  test('with memcached, tabs are cache-only and the retry interval is configurable', () => {
    const config = loadServeConfig({
      flags: { memcached: '127.0.0.1:11211', memcachedRetrySeconds: '5' },
      env: {},
    });
    assert.equal(config.cache, 'memcached');
    assert.deepEqual(config.cacheOnlyCollections, ['tabs']);
    assert.equal(config.memcachedRetrySeconds, 5);
    assert.throws(
      () => loadServeConfig({ flags: { memcachedRetrySeconds: '0' }, env: {} }),
      /--memcached-retry-seconds/,
    );
  });

  test('flags beat environment, environment beats the file (syncstorage-rs names)', () => {
    const path = file({
      port: 9001,
      master_secret: 'from-file',
      syncstorage: { database_url: 'sqlite::memory:', limits: { max_post_records: 5 } },
    });
    const env = { SYNC_PORT: '9002', SYNC_SYNCSTORAGE__LIMITS__MAX_POST_RECORDS: '7' };
    const fromFile = loadServeConfig({ flags: {}, env: {}, file: path });
    assert.equal(fromFile.port, 9001);
    assert.equal(fromFile.masterSecret, 'from-file');
    assert.equal(fromFile.database, 'sqlite::memory:');
    assert.deepEqual(fromFile.limits, { maxPostRecords: 5 });
    const fromEnv = loadServeConfig({ flags: {}, env, file: path });
    assert.equal(fromEnv.port, 9002);
    assert.deepEqual(fromEnv.limits, { maxPostRecords: 7 });
    const fromFlags = loadServeConfig({ flags: { port: '9003' }, env, file: path });
    assert.equal(fromFlags.port, 9003);
  });

  test('memcached servers switch the cache; quota needs a limit', () => {
    const config = loadServeConfig({ flags: { memcached: 'a:11211, b:11211' }, env: {} });
    assert.equal(config.cache, 'memcached');
    assert.deepEqual(config.memcached, ['a:11211', 'b:11211']);
    const quota = loadServeConfig({
      flags: {},
      env: {
        SYNC_SYNCSTORAGE__ENABLE_QUOTA: 'true',
        SYNC_SYNCSTORAGE__LIMITS__MAX_QUOTA_LIMIT: '1000',
      },
    });
    assert.equal(quota.quotaBytes, 1000);
    assert.throws(
      () => loadServeConfig({ flags: { enableQuota: true }, env: {} }),
      /--enable-quota.*--max-quota-limit/,
    );
  });

  test('errors name the option by flag, variable and file key', () => {
    assert.throws(
      () => loadServeConfig({ flags: {}, env: { SYNC_PORT: 'eighty' } }),
      (error: Error) =>
        error instanceof CliConfigError &&
        /--port \(SYNC_PORT, file key port\)/.test(error.message),
    );
    assert.throws(() => loadServeConfig({ flags: { port: '70000' }, env: {} }), /--port/);
    assert.throws(() => loadServeConfig({ flags: { cache: 'redis' }, env: {} }), /--cache/);
    assert.throws(
      () => loadServeConfig({ flags: {}, env: { SYNC_TRUST_PROXY: 'maybe' } }),
      /--trust-proxy/,
    );
    assert.throws(
      () => loadServeConfig({ flags: {}, env: {}, file: file({ prot: 1 }) }),
      /unknown key prot/,
    );
    assert.throws(
      () => loadServeConfig({ flags: {}, env: {}, file: '/nonexistent/config.json' }),
      /cannot read --config/,
    );
  });
});

describe('master secret', () => {
  test('generated once with mode 0600, then reused', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'sync-secret-')), 'data');
    const first = loadOrCreateMasterSecret(dir);
    assert.equal(first.created, true);
    assert.match(first.secret, /^[0-9a-f]{64}$/);
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    const second = loadOrCreateMasterSecret(dir);
    assert.equal(second.created, false);
    assert.equal(second.secret, first.secret);
  });
});
