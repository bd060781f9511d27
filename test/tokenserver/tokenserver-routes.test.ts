// GET /1.0/sync/1.5 end to end on SQLite, PostgreSQL and MariaDB: a fake FxA token →
// the token server → a Hawk-signed storage request with the token it gave,
// every rule and error over HTTP, and rows changed by another connection
// while the server runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMariadb,
  startPostgres,
  type MariadbServer,
  type PostgresServer,
} from '@syncstorage-ts/test-support';
import { verifyToken, signingKey } from '../../src/server/auth/tokenlib.js';
import { SyncClient, injectTransport } from '../support/sync-client.js';
import { backendEnabled } from '../storage/support/storage-backends.js';
import { purgeReplacedUsers } from '../../src/tokenserver/replaced-purge.js';
import { FakeFxa } from './support/fake-fxa.js';
import {
  createTokenHarness,
  keyId,
  MASTER_SECRET,
  NODE,
  type Backend,
  type TokenHarness,
} from './support/tokenserver-harness.js';

const BACKENDS = (['sqlite', 'postgres', 'mariadb'] as const).filter((b) => backendEnabled(b));
const GEN = 1_700_000_000_000;

let fxa: FakeFxa;
let postgres: PostgresServer | undefined;
let mariadb: MariadbServer | undefined;
before(async () => {
  fxa = await FakeFxa.start();
  [postgres, mariadb] = await Promise.all([
    BACKENDS.includes('postgres') ? startPostgres() : undefined,
    BACKENDS.includes('mariadb') ? startMariadb() : undefined,
  ]);
});
after(async () => {
  await fxa?.stop();
  await postgres?.stop();
  await mariadb?.stop();
});

function errorOf(body: Record<string, unknown>) {
  return body as {
    status: string;
    errors: Array<{ location: string; name: string; description: string }>;
  };
}

for (const backend of BACKENDS) {
  describe(`token server (${backend})`, () => {
    let h: TokenHarness;
    before(async () => {
      h = await createTokenHarness({ backend: backend as Backend, fxa, postgres, mariadb });
    });
    after(() => h?.close());

    async function headers(fxaUid: string, kca: number, clientState: string, generation = GEN) {
      return {
        authorization: `Bearer ${await fxa.accessToken({ fxaUid, generation })}`,
        'x-keyid': keyId(kca, clientState),
      };
    }

    test('a new user gets a token the storage node accepts (Hawk, end to end)', async () => {
      const res = await h.token(await headers('a'.repeat(32), GEN, 'aaaa'));
      assert.equal(res.status, 200);
      const body = res.body as {
        id: string;
        key: string;
        uid: number;
        api_endpoint: string;
        duration: number;
        hashed_fxa_uid: string;
        hashalg: string;
        node_type: string;
      };
      assert.deepEqual(Object.keys(body), [
        'id',
        'key',
        'uid',
        'api_endpoint',
        'duration',
        'hashed_fxa_uid',
        'hashalg',
        'node_type',
      ]);
      assert.equal(body.api_endpoint, `${NODE}/1.5/${body.uid}`);
      assert.equal(body.duration, 3600);
      assert.equal(body.hashalg, 'sha256');
      assert.equal(body.node_type, backend);
      assert.match(body.hashed_fxa_uid, /^[0-9a-f]{32}$/);
      assert.match(String(res.headers['x-timestamp']), /^\d{10}$/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      const payload = verifyToken(signingKey(MASTER_SECRET), body.id);
      assert.equal(payload.uid, body.uid);
      assert.equal(payload.node, NODE);
      assert.equal(payload.fxa_uid, 'a'.repeat(32));
      assert.equal(payload.fxa_kid, `${GEN}-qqo`);
      assert.equal(payload.hashed_fxa_uid, body.hashed_fxa_uid);
      assert.match(payload.hashed_device_id ?? '', /^[0-9a-f]{32}$/);

      // The storage node takes the token: write and read back over Hawk.
      const client = new SyncClient({
        masterSecret: MASTER_SECRET,
        uid: body.uid,
        transport: injectTransport(h.app),
        baseUrl: NODE,
      });
      client.token = { id: body.id, key: body.key, payload };
      const put = await client.put('/storage/meta/global', { payload: 'hello' });
      assert.equal(put.status, 200, put.body);
      const got = await client.get('/storage/meta/global');
      assert.equal((got.json() as { payload: string }).payload, 'hello');

      const rows = await h.sql(
        'SELECT email, generation, client_state, keys_changed_at FROM users WHERE uid = ?',
        [body.uid],
      );
      assert.deepEqual(
        rows.map((r) => ({
          ...r,
          generation: Number(r.generation),
          keys_changed_at: Number(r.keys_changed_at),
        })),
        [
          {
            email: `${'a'.repeat(32)}@api.accounts.firefox.com`,
            generation: GEN,
            client_state: 'aaaa',
            keys_changed_at: GEN,
          },
        ],
      );
    });

    test('a returning user keeps the uid; ?duration is honoured up to the configured one', async () => {
      const uid = 'b'.repeat(32);
      const first = await h.token(await headers(uid, GEN, 'bbbb'));
      const again = await h.token(await headers(uid, GEN, 'bbbb'), '/1.0/sync/1.5?duration=60');
      assert.equal(again.status, 200);
      assert.equal(again.body.uid, first.body.uid);
      assert.equal(again.body.duration, 60);
      const long = await h.token(await headers(uid, GEN, 'bbbb'), '/1.0/sync/1.5?duration=99999');
      assert.equal(long.body.duration, 3600);
    });

    test('generation and keys_changed_at rules over HTTP', async () => {
      const uid = 'c'.repeat(32);
      assert.equal((await h.token(await headers(uid, GEN, 'cccc', GEN + 10))).status, 200);
      const lower = await h.token(await headers(uid, GEN, 'cccc', GEN + 5));
      assert.equal(lower.status, 401);
      assert.equal(errorOf(lower.body).status, 'invalid-generation');
      const lowerKca = await h.token(await headers(uid, GEN - 1, 'cccc', GEN + 10));
      assert.equal(errorOf(lowerKca.body).status, 'invalid-keysChangedAt');
      const aboveGen = await h.token(await headers(uid, GEN + 20, 'cccc', GEN + 10));
      assert.equal(errorOf(aboveGen.body).status, 'invalid-keysChangedAt');
      // A higher generation is recorded.
      assert.equal((await h.token(await headers(uid, GEN, 'cccc', GEN + 30))).status, 200);
      const [row] = await h.sql('SELECT generation FROM users WHERE email = ?', [
        `${uid}@api.accounts.firefox.com`,
      ]);
      assert.equal(Number(row?.generation), GEN + 30);
    });

    test('a new client state gets a new uid on the same node; old states are refused', async () => {
      const fxaUid = 'd'.repeat(32);
      const first = await h.token(await headers(fxaUid, GEN, 'dddd'));
      const sameGen = await h.token(await headers(fxaUid, GEN, 'eeee'));
      assert.equal(sameGen.status, 401);
      assert.deepEqual(errorOf(sameGen.body).errors[0]?.name, 'X-Client-State');
      assert.equal(errorOf(sameGen.body).status, 'invalid-client-state');
      const moved = await h.token(await headers(fxaUid, GEN + 100, 'eeee', GEN + 100));
      assert.equal(moved.status, 200);
      assert.notEqual(moved.body.uid, first.body.uid);
      assert.equal(moved.body.api_endpoint, `${NODE}/1.5/${moved.body.uid}`);
      const back = await h.token(await headers(fxaUid, GEN + 200, 'dddd', GEN + 200));
      assert.equal(errorOf(back.body).status, 'invalid-client-state');
      const rows = await h.sql('SELECT uid, replaced_at FROM users WHERE email = ? ORDER BY uid', [
        `${fxaUid}@api.accounts.firefox.com`,
      ]);
      assert.equal(rows.length, 2);
      assert.notEqual(rows[0]?.replaced_at, null);
      assert.equal(rows[1]?.replaced_at, null);
    });

    test('header errors: Authorization, X-KeyID, X-Client-State, application and version', async () => {
      const token = await fxa.accessToken({ fxaUid: 'f'.repeat(32) });
      const none = await h.token({ 'x-keyid': keyId(GEN, 'aa') });
      assert.equal(none.status, 401);
      const basic = await h.token({ authorization: 'Basic abc', 'x-keyid': keyId(GEN, 'aa') });
      assert.equal(basic.status, 401);
      const noKeyId = await h.token({ authorization: `Bearer ${token}` });
      assert.equal(noKeyId.status, 401);
      assert.deepEqual(noKeyId.body, {
        status: 'invalid-key-id',
        errors: [{ location: 'header', name: '', description: 'Missing X-KeyID header' }],
      });
      const mismatch = await h.token({
        authorization: `bearer ${token}`,
        'x-keyid': keyId(GEN, 'aaaa'),
        'x-client-state': 'bbbb',
      });
      assert.equal(errorOf(mismatch.body).status, 'invalid-client-state');
      const badState = await h.token({
        authorization: `Bearer ${token}`,
        'x-keyid': keyId(GEN, 'aaaa'),
        'x-client-state': '!!',
      });
      assert.equal(badState.status, 400);
      const app = await h.token({ authorization: `Bearer ${token}` }, '/1.0/push/1.5');
      assert.equal(app.status, 404);
      assert.deepEqual(app.body, {
        status: 'error',
        errors: [{ location: 'url', name: 'application', description: 'Unsupported application' }],
      });
      const version = await h.token({ authorization: `Bearer ${token}` }, '/1.0/sync/1.1');
      assert.equal(version.status, 404);
      assert.equal(errorOf(version.body).errors[0]?.name, '1.1');
      const post = await h.app.inject({ method: 'POST', url: '/1.0/sync/1.5' });
      assert.equal(post.statusCode, 405);
      assert.match(String(post.headers['content-type']), /^application\/json/);
    });

    test('bad, expired or foreign-signed tokens and a missing scope are invalid-credentials', async () => {
      const kid = { 'x-keyid': keyId(GEN, 'aa') };
      const cases = [
        await fxa.accessToken({ expiresIn: -3600 }),
        await fxa.accessToken({ key: fxa.otherKey }),
        await fxa.accessToken({ scope: 'profile' }),
        await fxa.accessToken({ typ: 'JWT' }),
      ];
      for (const token of cases) {
        const res = await h.token({ authorization: `Bearer ${token}`, ...kid });
        assert.equal(res.status, 401);
        assert.deepEqual(res.body, {
          status: 'invalid-credentials',
          errors: [{ location: 'body', name: '', description: 'Unauthorized' }],
        });
      }
    });

    test('rows another connection changes are seen at once: a deleted node, a replaced user', async () => {
      const fxaUid = '1'.repeat(32);
      const first = await h.token(await headers(fxaUid, GEN, '1111'));
      // Another tool adds a second node and deletes the user's node row.
      await h.sql(
        `INSERT INTO nodes (service, node, available, current_load, capacity, downed, backoff)
         VALUES (1, 'https://other.example.test', 10, 0, 10, 0, 0)`,
      );
      await h.sql('UPDATE nodes SET downed = 1 WHERE node = ?', [NODE]);
      await h.sql('DELETE FROM nodes WHERE node = ?', [NODE]);
      const moved = await h.token(await headers(fxaUid, GEN, '1111'));
      assert.equal(moved.status, 200);
      assert.notEqual(moved.body.uid, first.body.uid);
      assert.equal(moved.body.api_endpoint, `https://other.example.test/1.5/${moved.body.uid}`);
      // The operator puts the node back and replaces the user by hand.
      await h.sql(
        `INSERT INTO nodes (service, node, available, current_load, capacity, downed, backoff)
         VALUES (1, ?, 100, 0, 100, 0, 0)`,
        [NODE],
      );
      await h.sql("UPDATE nodes SET downed = 1 WHERE node = 'https://other.example.test'");
      await h.sql('UPDATE users SET replaced_at = 1 WHERE uid = ?', [moved.body.uid as number]);
      const again = await h.token(await headers(fxaUid, GEN, '1111'));
      assert.equal(again.status, 200);
      assert.equal(again.body.api_endpoint, `${NODE}/1.5/${again.body.uid}`);
      assert.notEqual(again.body.uid, moved.body.uid);
    });

    test('no node with room: capacity is released, then 503 with the JSON error', async () => {
      await h.sql('UPDATE nodes SET available = 0, capacity = current_load');
      const full = await h.token(await headers('2'.repeat(32), GEN, '2222'));
      assert.equal(full.status, 503);
      assert.equal(full.headers['retry-after'], '10');
      assert.equal(errorOf(full.body).status, 'internal-error');
      // Room again, but nothing available: a release opens slots.
      await h.sql('UPDATE nodes SET capacity = current_load + 50, available = 0 WHERE downed = 0');
      const ok = await h.token(await headers('2'.repeat(32), GEN, '2222'));
      assert.equal(ok.status, 200);
      const [node] = await h.sql('SELECT available FROM nodes WHERE node = ?', [NODE]);
      assert.equal(Number(node?.available), 4); // 10 % of capacity released, one taken
    });

    test('a retired user is refused with invalid-generation', async () => {
      const fxaUid = '3'.repeat(32);
      assert.equal((await h.token(await headers(fxaUid, GEN, '3333'))).status, 200);
      assert.equal(await h.tokenserver.store.retireUser(`${fxaUid}@api.accounts.firefox.com`), 1);
      const res = await h.token(await headers(fxaUid, GEN, '3333', GEN + 1));
      assert.equal(res.status, 401);
      assert.equal(errorOf(res.body).status, 'invalid-generation');
    });

    test('purge deletes the storage of uids replaced before the grace period, on this node only', async () => {
      const fxaUid = '4'.repeat(32);
      const first = await h.token(await headers(fxaUid, GEN, '4444'));
      const oldUid = first.body.uid as number;
      await h.storage.setItems(oldUid, 'bookmarks', [{ id: 'x', payload: 'old' }]);
      const moved = await h.token(await headers(fxaUid, GEN + 1, '5555', GEN + 1));
      assert.notEqual(moved.body.uid, oldUid);
      // A replaced record of another node is not this node's to purge.
      await h.sql(
        `INSERT INTO nodes (service, node, available, current_load, capacity, downed, backoff)
         VALUES (1, 'http://elsewhere.test', 0, 0, 0, 1, 0)`,
      );
      const [elsewhere] = await h.sql("SELECT id FROM nodes WHERE node = 'http://elsewhere.test'");
      await h.sql(
        `INSERT INTO users (service, email, generation, client_state, created_at, replaced_at, nodeid)
         VALUES (1, 'someone@api.accounts.firefox.com', 1, 'aa', 1, 2, ?)`,
        [Number(elsewhere?.id)],
      );
      const kept = await purgeReplacedUsers({
        store: h.tokenserver.store,
        storage: h.storage,
        node: NODE,
        graceMs: 60_000,
      });
      assert.equal(kept.usersPurged, 0, 'inside the grace period');
      const result = await purgeReplacedUsers({
        store: h.tokenserver.store,
        storage: h.storage,
        node: NODE,
        graceMs: 0,
        clock: () => Date.now() + 1,
      });
      assert.ok(result.usersPurged >= 1);
      assert.ok(result.otherNodes >= 1);
      assert.deepEqual(await h.storage.getCollectionTimestamps(oldUid), {});
      assert.deepEqual(await h.sql('SELECT uid FROM users WHERE uid = ?', [oldUid]), []);
      assert.equal(
        (await h.sql("SELECT uid FROM users WHERE email = 'someone@api.accounts.firefox.com'"))
          .length,
        1,
      );
      const still = await h.token(await headers(fxaUid, GEN + 1, '5555', GEN + 1));
      assert.equal(still.body.uid, moved.body.uid);
    });

    test('__heartbeat__ reports the token server database', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/__heartbeat__' });
      assert.equal(res.statusCode, 200);
      assert.equal((JSON.parse(res.body) as { tokenserver: string }).tokenserver, 'Ok');
    });
  });
}

describe('token server policies (sqlite)', () => {
  test('allow_new_users=false keeps the current users only', async () => {
    const h = await createTokenHarness({
      backend: 'sqlite',
      fxa,
      config: { allowNewUsers: false },
    });
    try {
      // An existing user (inserted by another tool) still gets a token.
      await h.sql(
        `INSERT INTO users (service, email, generation, client_state, created_at, nodeid, keys_changed_at)
         VALUES (1, ?, 0, 'aa', 1, 1, NULL)`,
        [`${'9'.repeat(32)}@api.accounts.firefox.com`],
      );
      const known = await h.token({
        authorization: `Bearer ${await fxa.accessToken({ fxaUid: '9'.repeat(32) })}`,
        'x-keyid': keyId(GEN, 'aa'),
      });
      assert.equal(known.status, 200);
      const stranger = await h.token({
        authorization: `Bearer ${await fxa.accessToken({ fxaUid: '8'.repeat(32) })}`,
        'x-keyid': keyId(GEN, 'aa'),
      });
      assert.equal(stranger.status, 403);
      assert.equal(errorOf(stranger.body).status, 'new-users-disabled');
    } finally {
      await h.close();
    }
  });

  test('an allow-list admits only the FxA uids and emails on it', async () => {
    const h = await createTokenHarness({
      backend: 'sqlite',
      fxa,
      config: { allowedUsers: ['A'.repeat(32), `${'b'.repeat(32)}@api.accounts.firefox.com`] },
    });
    try {
      for (const [fxaUid, expected] of [
        ['a'.repeat(32), 200],
        ['b'.repeat(32), 200],
        ['c'.repeat(32), 403],
      ] as const) {
        const res = await h.token({
          authorization: `Bearer ${await fxa.accessToken({ fxaUid })}`,
          'x-keyid': keyId(GEN, 'aa'),
        });
        assert.equal(res.status, expected, fxaUid);
        if (expected === 403) assert.equal(errorOf(res.body).status, 'user-not-allowed');
      }
    } finally {
      await h.close();
    }
  });
});
