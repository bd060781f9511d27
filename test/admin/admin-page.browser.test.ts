/**
 * The admin page in a real browser: Debian's Chromium driven by
 * playwright-core (one launch for the file). Loads the overview with the
 * token, searches a user, deletes their data after confirming, and checks
 * the server state; with the token server in the process (a fake FxA),
 * finds a user by FxA uid, retires them and edits a node after confirming,
 * checking the database. Screenshots go to test-results/ (git-ignored).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { FakeFxa } from '../tokenserver/support/fake-fxa.js';
import { keyId } from '../tokenserver/support/tokenserver-harness.js';
import { isRetiredGeneration } from '../../src/tokenserver/user-rules.js';
import { ADMIN_TOKEN, NODE, openOperator, type Operator } from './admin-setup.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-results');

describe(
  'admin page in Chromium',
  { skip: !existsSync(CHROMIUM) && 'no /usr/bin/chromium' },
  () => {
    let op: Operator;
    let fxa: FakeFxa;
    let browser: BrowserContext;
    let profile = '';
    let base = '';
    before(async () => {
      mkdirSync(SHOTS, { recursive: true });
      fxa = await FakeFxa.start();
      op = await openOperator('sqlite', 50 * 1024 * 1024, { fxa });
      await op.client(4242).post('/storage/bookmarks', [{ id: 'a', payload: 'x'.repeat(2000) }]);
      await op.client(7).post('/storage/history', [{ id: 'h', payload: 'y'.repeat(100) }]);
      base = await op.admin.listen({ host: '127.0.0.1', port: 0 });
      profile = mkdtempSync(join(tmpdir(), 'syncstorage-chromium-'));
      // A fresh profile: playwright passes it to Chromium as --user-data-dir.
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
    });
    after(async () => {
      await browser?.close();
      await op?.close();
      await fxa?.stop();
      if (profile) rmSync(profile, { recursive: true, force: true });
    });

    test('without a token the page asks for one and shows no data', async () => {
      const page = await browser.newPage();
      await page.goto(`${base}/`);
      await page.locator('#login').waitFor({ state: 'visible' });
      assert.equal(await page.locator('main').isVisible(), false);
      await page.fill('#token', 'not-the-token-at-all');
      await page.click('#login-form button');
      await page.locator('#login-error').filter({ hasText: 'refused' }).waitFor();
      await page.close();
    });

    test('overview, search a user, delete their data after confirming', async () => {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(`${base}/#token=${ADMIN_TOKEN}`);
      await page.locator('#total-users').filter({ hasText: '2' }).waitFor();
      assert.equal(await page.locator('#total-items').textContent(), '2');
      assert.equal(page.url(), `${base}/`, 'the token left the address bar');
      await page.screenshot({ path: join(SHOTS, 'admin-overview.png'), fullPage: true });

      await page.click('nav button[data-view="users"]');
      await page.fill('#search', '424');
      await page.click('#user-search button');
      const row = page.locator('#users-table tbody tr');
      // The table first shows every user; wait for the search's answer to
      // replace it (reading at once raced it on a loaded machine: 2 rows).
      await page.waitForFunction(
        "document.querySelectorAll('#users-table tbody tr').length === 1",
        undefined,
        { timeout: 10_000 },
      );
      assert.match(await row.first().innerText(), /4242/);
      await row.first().click();
      await page.locator('#collections-table tbody tr').first().waitFor();
      assert.match(await page.locator('#collections-table').innerText(), /bookmarks\s+1\s+2\.0 KB/);
      await page.screenshot({ path: join(SHOTS, 'admin-user.png'), fullPage: true });

      // Cancel first: nothing happens.
      await page.click('#delete-data');
      await page.click('#confirm-cancel');
      assert.ok((await op.storage.getTotalSize(4242, true)) > 0);

      await page.click('#delete-data');
      assert.match(await page.locator('#confirm-text').innerText(), /Delete all data of user 4242/);
      await page.screenshot({ path: join(SHOTS, 'admin-confirm.png') });
      await page.click('#confirm-ok');
      await page
        .locator('#action-log li')
        .filter({ hasText: 'deleted the data of user 4242' })
        .waitFor();
      assert.deepEqual(await op.storage.getCollectionCounts(4242), {});
      assert.equal(await op.storage.getTotalSize(4242), 0);
      assert.deepEqual(await op.storage.getCollectionCounts(7), { history: 1 }, 'others untouched');
      await page.screenshot({ path: join(SHOTS, 'admin-deleted.png'), fullPage: true });
      assert.ok(
        requests.every((url) => url.startsWith(base)),
        `nothing loaded from elsewhere: ${requests.filter((u) => !u.startsWith(base)).join(', ')}`,
      );
      await page.close();
    });

    test('token server: find a user by FxA uid, retire them, edit a node, each after confirming', async () => {
      const fxaUid = 'feed'.padEnd(32, '5');
      const res = await op.app.inject({
        method: 'GET',
        url: '/1.0/sync/1.5',
        headers: {
          authorization: `Bearer ${await fxa.accessToken({ fxaUid })}`,
          'x-keyid': keyId(1_700_000_000_000, 'abcd'),
        },
      });
      const { uid } = res.json() as { uid: number };
      const page = await browser.newPage();
      await page.goto(`${base}/#token=${ADMIN_TOKEN}`);
      await page.locator('#total-users').filter({ hasText: /\d/ }).waitFor();
      await page.click('nav button[data-view="users"]');
      await page.fill('#search', 'feed');
      await page.click('#user-search button');
      const row = page.locator('#users-table tbody tr', { hasText: fxaUid });
      await row.waitFor();
      assert.equal(await page.locator('#users-table tbody tr').count(), 1);
      await row.click();
      await page.locator('#detail-token-server').filter({ hasText: fxaUid }).waitFor();
      assert.match(await page.locator('#detail-token-server').innerText(), /Client state\s+abcd/);

      await page.click('#retire-user');
      assert.match(
        await page.locator('#confirm-text').innerText(),
        new RegExp(`Retire user ${uid}`),
      );
      await page.click('#confirm-ok');
      await page.locator('#detail-token-server').filter({ hasText: 'retired' }).waitFor();
      const [user] = await op.sql('SELECT generation, replaced_at FROM users WHERE uid = ?', [uid]);
      assert.ok(isRetiredGeneration(Number(user!.generation)), 'retired in the database');
      assert.ok(Number(user!.replaced_at) > 0);
      await page.screenshot({ path: join(SHOTS, 'admin-retired.png'), fullPage: true });

      await page.click('nav button[data-view="nodes"]');
      const nodeRow = page.locator('#nodes-table tbody tr', { hasText: NODE });
      await nodeRow.waitFor();
      await nodeRow.locator('input[type="number"]').first().fill('321');
      await nodeRow.locator('input[type="checkbox"]').nth(1).check();
      await nodeRow.locator('button').click();
      assert.match(await page.locator('#confirm-text').innerText(), /"capacity":321/);
      await page.click('#confirm-ok');
      await page
        .locator('#action-log li')
        .filter({ hasText: `changed node ${NODE}` })
        .waitFor();
      const [node] = await op.sql('SELECT capacity, downed, backoff FROM nodes WHERE node = ?', [
        NODE,
      ]);
      assert.deepEqual(
        [Number(node!.capacity), Number(node!.downed), Number(node!.backoff)],
        [321, 0, 1],
      );
      await page.screenshot({ path: join(SHOTS, 'admin-nodes.png'), fullPage: true });
      await page.close();
    });
  },
);
