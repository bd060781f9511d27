/**
 * The admin API with the token server in the process (as `serve` runs it),
 * on SQLite and PostgreSQL: the token server's metrics move with real token
 * requests against a fake FxA; nodes listed and edited (the next token
 * request sees the edit); users found by FxA uid or email with their token
 * server record and last sync; a user retired (refused a token after). And
 * a token-server-only admin (as `syncstorage tokenserver` runs it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import { RecentHistory } from '../../src/admin/metrics/recent-history.js';
import { ServerMetrics } from '../../src/admin/metrics/server-metrics.js';
import type { NodeInfo, TokenServerUser } from '../../src/admin/token-server-admin.js';
import { tokenServerAdmin } from '../../src/admin/token-server-store-admin.js';
import { isRetiredGeneration } from '../../src/tokenserver/user-rules.js';
import { FakeFxa } from '../tokenserver/support/fake-fxa.js';
import { keyId } from '../tokenserver/support/tokenserver-harness.js';
import { ADMIN_TOKEN, BACKENDS, NODE, openOperator, type Operator } from './admin-setup.js';

const ALICE = 'a11ce'.padEnd(32, '0');
const BOB = 'b0b'.padEnd(32, '1');
const CAROL = 'ca201'.padEnd(32, '2');
const KCA = 1_700_000_000_000;

/** One counter's value in the exposition (0 when absent). */
function counter(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const backends = BACKENDS.filter((b) => b === 'sqlite' || b === 'postgres');

describe('admin API with the token server', () => {
  let fxa: FakeFxa;
  before(async () => {
    fxa = await FakeFxa.start();
  });
  after(() => fxa.stop());

  for (const backend of backends) {
    describe(backend, () => {
      let op: Operator;
      const token = async (
        fxaUid: string,
        options: { generation?: number; state?: string; kca?: number } = {},
      ) => {
        const res = await op.app.inject({
          method: 'GET',
          url: '/1.0/sync/1.5',
          headers: {
            authorization: `Bearer ${await fxa.accessToken({ fxaUid, generation: options.generation })}`,
            'x-keyid': keyId(options.kca ?? KCA, options.state ?? 'aaaa'),
          },
        });
        return { status: res.statusCode, body: res.json() as { uid: number; status?: string } };
      };
      let alice = 0;

      before(async () => {
        op = await openOperator(backend, null, { fxa });
        alice = (await token(ALICE)).body.uid;
        await op.client(alice).post('/storage/bookmarks', [{ id: 'a', payload: 'x'.repeat(300) }]);
      });
      after(() => op?.close());

      test('metrics: tokens, assignments, errors by status, FxA verifications', async () => {
        const bob = await token(BOB);
        assert.equal(bob.status, 200);
        assert.equal((await token(BOB)).status, 200, 'a returning user');
        // A lower generation than seen: invalid-generation.
        const lower = await token(BOB, { generation: 1_600_000_000_000 });
        assert.equal(lower.body.status, 'invalid-generation');
        // A new client state with higher generation and keys_changed_at: a new uid.
        const later = 1_800_000_000_000;
        const moved = await token(BOB, { generation: later, kca: later, state: 'bbbb' });
        assert.equal(moved.status, 200);
        assert.notEqual(moved.body.uid, bob.body.uid);
        const expired = await op.app.inject({
          method: 'GET',
          url: '/1.0/sync/1.5',
          headers: {
            authorization: `Bearer ${await fxa.accessToken({ expiresIn: -3600 })}`,
            'x-keyid': keyId(KCA, 'aaaa'),
          },
        });
        assert.equal(expired.statusCode, 401);
        // An opaque token: FxA's /v1/verify decides.
        const carol = () =>
          op.app.inject({
            method: 'GET',
            url: '/1.0/sync/1.5',
            headers: {
              authorization: `Bearer ${fxa.opaqueToken(CAROL, 1_700_000_000_000)}`,
              'x-keyid': keyId(KCA, 'cccc'),
            },
          });
        const remote = await carol();
        assert.equal(remote.statusCode, 200);
        // Another tool marks Carol's record replaced: she is reassigned at her next request.
        await op.sql('UPDATE users SET replaced_at = ? WHERE email = ?', [
          Date.now(),
          `${CAROL}@api.accounts.firefox.com`,
        ]);
        const again = await carol();
        assert.equal(again.statusCode, 200);

        let text = (await op.call('GET', '/metrics')).body;
        const at = (series: string) => counter(text, series);
        // Alice (before), Bob, Carol; Bob's new client state; Carol reassigned.
        assert.equal(at('syncstorage_tokenserver_assignments_total{kind="new_user"}'), 3);
        assert.equal(at('syncstorage_tokenserver_assignments_total{kind="new_client_state"}'), 1);
        assert.equal(at('syncstorage_tokenserver_assignments_total{kind="reassignment"}'), 1);
        assert.equal(at('syncstorage_tokenserver_tokens_issued_total'), 6);
        assert.equal(
          at('syncstorage_tokenserver_errors_total{status="invalid-generation",code="401"}'),
          1,
        );
        assert.equal(
          at('syncstorage_tokenserver_errors_total{status="invalid-credentials",code="401"}'),
          1,
        );
        const verified = (method: string, outcome: string) =>
          at(
            `syncstorage_tokenserver_fxa_verifications_total{method="${method}",outcome="${outcome}"}`,
          );
        // Five JWTs verified (one the same as another when minted in the same second: a cache hit).
        const jwtOk = () => verified('local_jwk', 'ok') + verified('cache', 'ok');
        assert.equal(jwtOk(), 5);
        assert.equal(verified('local_jwk', 'invalid'), 1, 'the expired one');
        assert.equal(verified('remote_verify', 'ok'), 2, 'the opaque tokens');
        const cachedBefore = verified('cache', 'ok');
        // The same JWT twice: the second is a cache hit.
        const jwt = await fxa.accessToken({ fxaUid: ALICE });
        for (let i = 0; i < 2; i++) {
          await op.app.inject({
            method: 'GET',
            url: '/1.0/sync/1.5',
            headers: { authorization: `Bearer ${jwt}`, 'x-keyid': keyId(KCA, 'aaaa') },
          });
        }
        text = (await op.call('GET', '/metrics')).body;
        assert.equal(jwtOk(), 7);
        assert.ok(verified('cache', 'ok') > cachedBefore);
        // Requests to the token route are counted with the others.
        assert.match(
          text,
          /syncstorage_http_requests_total\{method="GET",route="\/1\.0\/:application\/:version",status="200"\} \d/,
        );
      });

      test('nodes: listed with their load, edited in the database, the next token request sees it', async () => {
        const { nodes } = (await op.call('GET', '/api/nodes')).json() as { nodes: NodeInfo[] };
        assert.equal(nodes.length, 1);
        const node = nodes[0]!;
        assert.equal(node.node, NODE);
        assert.equal(node.capacity, 100);
        assert.ok(node.currentLoad >= 3, `current_load ${node.currentLoad}`);
        assert.deepEqual([node.downed, node.backoff], [false, false]);

        const changed = await op.call('PATCH', `/api/nodes/${node.id}`, {
          capacity: 250,
          downed: true,
        });
        assert.equal(changed.status, 200);
        assert.deepEqual(
          [(changed.json() as NodeInfo).capacity, (changed.json() as NodeInfo).downed],
          [250, true],
        );
        const [row] = await op.sql('SELECT capacity, downed, backoff FROM nodes WHERE id = ?', [
          node.id,
        ]);
        assert.deepEqual(
          [Number(row!.capacity), Number(row!.downed), Number(row!.backoff)],
          [250, 1, 0],
        );
        // No node takes new users now.
        assert.equal((await token('d'.repeat(32))).status, 503);
        await op.call('PATCH', `/api/nodes/${node.id}`, { downed: false });
        assert.equal((await token('d'.repeat(32))).status, 200);

        assert.equal((await op.call('PATCH', '/api/nodes/99999', { downed: true })).status, 404);
        assert.equal(
          (await op.call('PATCH', `/api/nodes/${node.id}`, { capacity: -1 })).status,
          400,
        );
        assert.equal(
          (await op.call('PATCH', `/api/nodes/${node.id}`, { downed: 'yes' })).status,
          400,
        );
        assert.equal((await op.call('PATCH', '/api/nodes/abc', {})).status, 400);
      });

      test('users: found by FxA uid or email, with usage, last sync and the token-server record', async () => {
        type Found = {
          users: Array<{ userId: number; bytes?: number; tokenServer?: TokenServerUser }>;
        };
        const byUid = (
          await op.call('GET', `/api/users?search=${ALICE.slice(0, 6)}`)
        ).json() as Found;
        assert.equal(byUid.users.length, 1);
        const [found] = byUid.users;
        assert.equal(found!.userId, alice);
        assert.equal(found!.bytes, 300);
        assert.equal(found!.tokenServer?.fxaUid, ALICE);
        const byEmail = (
          await op.call(
            'GET',
            `/api/users?search=${encodeURIComponent(`${ALICE}@api.accounts.firefox.com`)}`,
          )
        ).json() as Found;
        assert.deepEqual(
          byEmail.users.map((u) => u.userId),
          [alice],
        );
        // Bob has two records (a new client state): both found, newest first, no data stored.
        const bob = (await op.call('GET', `/api/users?search=${BOB.slice(0, 8)}`)).json() as Found;
        assert.equal(bob.users.length, 2);
        assert.equal(bob.users[0]!.tokenServer!.replacedAt, null);
        assert.ok(bob.users[1]!.tokenServer!.replacedAt! > 0);
        assert.equal(bob.users[0]!.bytes, 0);
        // Uid digits still search storage; nothing else matches; bad input refused.
        const digits = (await op.call('GET', `/api/users?search=${alice}`)).json() as Found;
        const listed = digits.users.find((u) => u.userId === alice);
        assert.equal(listed?.tokenServer?.fxaUid, ALICE, 'a storage listing names the account');
        assert.deepEqual((await op.call('GET', '/api/users?search=ffff')).json(), { users: [] });
        assert.equal((await op.call('GET', '/api/users?search=a%25')).status, 400);
        assert.equal((await op.call('GET', `/api/users?search=${'a'.repeat(300)}`)).status, 400);
        // '_' is a character, not LIKE's wildcard.
        assert.deepEqual((await op.call('GET', '/api/users?search=a_1ce')).json(), { users: [] });

        const shown = (await op.call('GET', `/api/users/${alice}`)).json() as {
          lastSync: number;
          tokenServer: TokenServerUser | null;
        };
        assert.ok(shown.lastSync > Date.now() - 600_000 && shown.lastSync <= Date.now() + 1000);
        const record = shown.tokenServer!;
        assert.equal(record.email, `${ALICE}@api.accounts.firefox.com`);
        assert.equal(record.node, NODE);
        assert.deepEqual(
          [record.generation, record.clientState, record.replacedAt, record.retired],
          [1_700_000_000_000, 'aaaa', null, false],
        );
        const nobody = (await op.call('GET', '/api/users/987654')).json() as {
          tokenServer: unknown;
        };
        assert.equal(nobody.tokenServer, null);
      });

      test('retire: after it, the account gets no token; twice or unknown is 404', async () => {
        const dave = await token('da7e'.padEnd(32, '3'));
        assert.equal(dave.status, 200);
        const res = await op.call('POST', `/api/users/${dave.body.uid}/retire`);
        assert.equal(res.status, 200);
        const [row] = await op.sql('SELECT generation, replaced_at FROM users WHERE uid = ?', [
          dave.body.uid,
        ]);
        assert.ok(isRetiredGeneration(Number(row!.generation)));
        assert.ok(Number(row!.replaced_at) > 0);
        assert.equal((await token('da7e'.padEnd(32, '3'))).body.status, 'invalid-generation');
        const shown = (await op.call('GET', `/api/users/${dave.body.uid}`)).json() as {
          tokenServer: TokenServerUser;
        };
        assert.deepEqual([shown.tokenServer.retired, shown.tokenServer.generation], [true, null]);
        assert.equal((await op.call('POST', `/api/users/${dave.body.uid}/retire`)).status, 404);
        assert.equal((await op.call('POST', '/api/users/987654/retire')).status, 404);
      });
    });
  }

  test('a token-server-only admin: nodes, users and metrics; no storage endpoints', async () => {
    const op = await openOperator('sqlite', null, { fxa });
    after(() => op.close());
    const metrics = new ServerMetrics({ processMetrics: false });
    const admin = buildAdminApp({
      token: ADMIN_TOKEN,
      metrics,
      history: new RecentHistory(metrics),
      tokenServer: tokenServerAdmin(op.tokenserver!.store),
    });
    after(() => admin.close());
    const call = async (
      method: 'GET' | 'DELETE' | 'POST' | 'PATCH',
      url: string,
      body?: object,
    ) => {
      const res = await admin.inject({
        method,
        url,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        ...(body && { payload: body }),
      });
      return { status: res.statusCode, json: () => res.json() as Record<string, unknown> };
    };
    const overview = (await call('GET', '/api/overview')).json();
    assert.deepEqual(
      [overview.storage, overview.tokenServer, overview.totals],
      [false, true, null],
    );
    const res = await op.app.inject({
      method: 'GET',
      url: '/1.0/sync/1.5',
      headers: {
        authorization: `Bearer ${await fxa.accessToken({ fxaUid: ALICE })}`,
        'x-keyid': keyId(KCA, 'aaaa'),
      },
    });
    const { uid } = res.json() as { uid: number };
    const listed = (await call('GET', '/api/users')).json() as {
      users: Array<Record<string, unknown>>;
    };
    assert.deepEqual(
      listed.users.map((u) => u.userId),
      [uid],
    );
    assert.equal(listed.users[0]!.bytes, undefined, 'no storage figures without storage');
    assert.equal(
      ((await call('GET', `/api/users/${uid}`)).json().tokenServer as TokenServerUser).uid,
      uid,
    );
    assert.equal((await call('GET', '/api/users/987654')).status, 404);
    assert.equal((await call('DELETE', `/api/users/${uid}/data`)).status, 404);
    assert.equal((await call('GET', '/api/purge')).status, 404);
    const { nodes } = (await call('GET', '/api/nodes')).json() as { nodes: NodeInfo[] };
    assert.equal(
      (await call('PATCH', `/api/nodes/${nodes[0]!.id}`, { backoff: true })).status,
      200,
    );
    assert.equal((await op.tokenserver!.store.getNode(NODE))?.backoff, 1);
    assert.equal((await call('POST', `/api/users/${uid}/retire`)).status, 200);
  });
});
