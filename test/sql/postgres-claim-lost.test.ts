/**
 * Issue 13 follow-up: the PostgreSQL claim is a session advisory lock, gone
 * when its session drops. The driver must not go on as if it still held it:
 * an owner (its in-process cache could be stale) fails closed, refusing
 * every request with a line that says why; a sharer (nothing of its own)
 * takes its claim again, unless an owner took the database in the gap. The
 * session is cut the way a PostgreSQL restart cuts it, by terminating its
 * backend from another connection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '@syncstorage-ts/test-support';
import { PostgresDriver } from '../../src/sql/postgres-driver.js';
import { StorageUnavailableError } from '../../src/storage/errors.js';
import { skipUnless } from '../storage/support/storage-backends.js';

describe('PostgreSQL claim whose session is lost', skipUnless('postgres'), () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());

  const KILL_CLAIMS =
    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()";

  async function refusal(driver: PostgresDriver): Promise<unknown> {
    // The driver learns of it from the session's 'end' event; wait for it.
    for (let i = 0; i < 100; i++) {
      try {
        (await driver.acquireRead()).release();
        await new Promise((resolve) => setTimeout(resolve, 20));
      } catch (error) {
        return error;
      }
    }
    return undefined;
  }

  async function served(driver: PostgresDriver): Promise<boolean> {
    for (let i = 0; i < 200; i++) {
      try {
        (await driver.acquireRead()).release();
        return true;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    return false;
  }

  test('a sharer takes its claim again and serves; not when an owner took the database', async () => {
    const url = await server.createDatabase('claim_lost_sharer');
    const driver = new PostgresDriver({ url });
    const owner = new PostgresDriver({ url });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await driver.claim('sharer');
      assert.equal((await admin.query(KILL_CLAIMS)).rowCount, 1);
      assert.ok((await refusal(driver)) instanceof StorageUnavailableError);
      assert.ok(await served(driver), 'served again once the sharer claim is back');
      await assert.rejects(owner.claim('owner'), /owns|another process/, 'the claim is held again');

      assert.equal((await admin.query(KILL_CLAIMS)).rowCount, 1);
      await owner.claim('owner'); // an owner starts in the gap
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const refused = await refusal(driver);
      assert.ok(refused instanceof StorageUnavailableError, 'refused beside an owner');
      assert.match(refused.message, /in-process cache/);
    } finally {
      await admin.end();
      await owner.close();
      await driver.close();
    }
  });

  test('after pg_terminate_backend on an owner claim, every request is refused', async () => {
    const url = await server.createDatabase('claim_lost');
    const driver = new PostgresDriver({ url });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await driver.claim('owner');
      (await driver.acquireRead()).release();
      const killed = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()",
      );
      assert.equal(killed.rowCount, 1, 'one backend holds the claim');
      // The driver learns of it from the session's 'end' event; wait for it.
      let refused: unknown;
      for (let i = 0; i < 100 && refused === undefined; i++) {
        try {
          (await driver.acquireRead()).release();
          await new Promise((resolve) => setTimeout(resolve, 20));
        } catch (error) {
          refused = error;
        }
      }
      assert.ok(refused instanceof StorageUnavailableError, 'requests are refused');
      assert.match(refused.message, /claim[^\n]*lost[^\n]*restart/);
    } finally {
      await admin.end();
      await driver.close();
    }
  });
});
