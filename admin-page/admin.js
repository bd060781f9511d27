// The admin page: plain browser JavaScript over the admin listener's JSON
// API (src/admin/admin-routes.ts). The token stays in this tab's
// sessionStorage and goes out as `Authorization: Bearer` on every call.
'use strict';
(() => {
  const $ = (selector) => document.querySelector(selector);
  const TOKEN_KEY = 'syncstorage-admin-token';
  let overview = null;
  let current = null; // the user shown in detail
  const charts = {};

  // A token in the fragment (#token=…) is taken once and removed from the address bar.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) {
    sessionStorage.setItem(TOKEN_KEY, fragment.get('token'));
    history.replaceState(null, '', location.pathname);
  }

  const bytes = (n) => {
    if (n === null || n === undefined) return '–';
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
  };
  const when = (ms) => (ms ? new Date(ms).toLocaleString() : '–');
  const status = (text) => ($('#status').textContent = text);

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: {
        Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) {
      showLogin('The token was refused.');
      throw new Error('unauthorized');
    }
    if (!response.ok) throw new Error(data.message ?? `HTTP ${response.status}`);
    return data;
  }

  function logAction(text) {
    const item = document.createElement('li');
    item.textContent = `${new Date().toLocaleTimeString()} — ${text}`;
    $('#action-log').prepend(item);
  }

  /** Ask before doing anything; resolves true on "Confirm". */
  function confirmAction(text) {
    const dialog = $('#confirm');
    $('#confirm-text').textContent = text;
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
      dialog.returnValue = '';
      dialog.showModal();
    });
  }

  function showLogin(message) {
    $('main').hidden = true;
    $('#login').hidden = false;
    $('#login-error').textContent = message ?? '';
  }

  function cell(row, text) {
    const td = document.createElement('td');
    td.textContent = text;
    row.append(td);
    return td;
  }

  /** Fill a <dl> with [term, value] pairs. */
  function definitions(list, entries) {
    list.replaceChildren();
    for (const [term, value] of entries) {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      list.append(dt, dd);
    }
  }

  // --- Views -----------------------------------------------------------------

  function show(view) {
    for (const button of document.querySelectorAll('nav button')) {
      button.classList.toggle('active', button.dataset.view === view);
    }
    for (const name of ['overview', 'users', 'nodes', 'purge']) {
      $(`#view-${name}`).hidden = name !== view;
    }
    if (view === 'overview') void loadOverview();
    if (view === 'users') void searchUsers();
    if (view === 'nodes') void loadNodes();
    if (view === 'purge') void loadPurge();
  }

  function chart(id, label, points, value) {
    const data = [points.map((p) => p.time), points.map(value)];
    const element = $(`#${id}`);
    if (charts[id]) {
      charts[id].setData(data);
      return;
    }
    charts[id] = new uPlot(
      {
        width: 480,
        height: 200,
        series: [{}, { label, stroke: '#5b2bbd', width: 2, spanGaps: true }],
        axes: [{}, { size: 60 }],
      },
      data,
      element,
    );
  }

  async function loadOverview() {
    overview = await api('GET', '/api/overview');
    // A token-server-only process has no storage totals, quota or purge.
    const totals = overview.totals ?? {};
    $('#total-users').textContent = String(totals.users ?? '–');
    $('#total-items').textContent = String(totals.items ?? '–');
    $('#total-bytes').textContent = bytes(totals.bytes);
    $('#global-quota').textContent = !overview.storage
      ? '–'
      : overview.globalQuotaBytes === null
        ? 'off'
        : bytes(overview.globalQuotaBytes);
    $('nav button[data-view="nodes"]').hidden = !overview.tokenServer;
    $('nav button[data-view="purge"]').hidden = !overview.storage;
    $('#retire-user').hidden = !overview.tokenServer;
    for (const element of document.querySelectorAll('.storage-only')) {
      element.hidden = !overview.storage;
    }
    for (const element of document.querySelectorAll('.token-column')) {
      element.hidden = !overview.tokenServer;
    }
    $('#search').placeholder = overview.tokenServer
      ? 'user id digits, or the start of an FxA uid or email'
      : 'user id (or its first digits)';
    $('#search').inputMode = overview.tokenServer ? 'text' : 'numeric';
    chart('chart-requests', 'req/s', overview.history, (p) => p.requestsPerSecond);
    chart('chart-cache', 'hit ratio', overview.history, (p) => p.cacheHitRatio);
    status(`updated ${new Date().toLocaleTimeString()}`);
  }

  async function searchUsers() {
    const search = $('#search').value.trim();
    const { users } = await api('GET', `/api/users?search=${encodeURIComponent(search)}&limit=100`);
    const body = $('#users-table tbody');
    body.replaceChildren();
    for (const user of users) {
      const row = document.createElement('tr');
      row.className = 'clickable';
      row.dataset.uid = String(user.userId);
      cell(row, String(user.userId));
      if (overview?.tokenServer) {
        const record = user.tokenServer;
        cell(row, record ? `${record.fxaUid}${record.replacedAt ? ' (replaced)' : ''}` : '–');
      }
      // Without storage in this process, rows carry no usage.
      cell(row, bytes(user.bytes));
      cell(row, user.items === undefined ? '–' : String(user.items));
      cell(row, user.collections === undefined ? '–' : String(user.collections));
      cell(row, when(user.lastModified));
      cell(row, user.quotaBytes == null ? '–' : bytes(user.quotaBytes));
      row.addEventListener('click', () => void showUser(user.userId));
      body.append(row);
    }
    status(`${users.length} user(s)`);
  }

  async function showUser(uid) {
    const user = await api('GET', `/api/users/${uid}`);
    current = user;
    $('#user-detail').hidden = false;
    $('#detail-uid').textContent = String(user.userId);
    showTokenServerRecord(user.tokenServer);
    const stored = user.collections !== undefined;
    $('#detail-storage').hidden = !stored;
    $('#collections-table').hidden = !stored;
    if (!stored) return;
    $('#detail-bytes').textContent = bytes(user.bytes);
    $('#detail-items').textContent = String(user.items);
    $('#detail-last-sync').textContent = when(user.lastSync);
    $('#detail-quota').textContent =
      user.effectiveQuotaBytes === null
        ? 'off'
        : `${bytes(user.effectiveQuotaBytes)}${user.quotaBytes === null ? ' (global)' : ' (own)'}`;
    $('#quota-mb').value = user.quotaBytes === null ? '' : String(user.quotaBytes / 1048576);
    const body = $('#collections-table tbody');
    body.replaceChildren();
    for (const c of user.collections) {
      const row = document.createElement('tr');
      cell(row, c.name);
      cell(row, String(c.count));
      cell(row, bytes(c.bytes));
      cell(row, when(c.lastModified));
      body.append(row);
    }
  }

  /** The token server's record of the user: undefined (no token server), null (none), or the row. */
  function showTokenServerRecord(record) {
    const list = $('#detail-token-server');
    list.hidden = record === undefined;
    list.replaceChildren();
    const entries =
      record === null
        ? [['Token server', 'no record with this uid']]
        : record === undefined
          ? []
          : [
              ['FxA uid', record.fxaUid],
              ['Email', record.email],
              ['Node', record.node ?? '(its node row is gone)'],
              ['Generation', record.retired ? 'retired' : String(record.generation)],
              ['Client state', record.clientState || '–'],
              ['Keys changed', when(record.keysChangedAt)],
              ['Created', when(record.createdAt)],
              ['Replaced', when(record.replacedAt)],
            ];
    definitions(list, entries);
  }

  async function deleteData() {
    if (!current) return;
    const uid = current.userId;
    if (
      !(await confirmAction(
        `Delete all data of user ${uid} (${bytes(current.bytes)})? Their devices will upload again at their next sync.`,
      ))
    )
      return;
    const result = await api('DELETE', `/api/users/${uid}/data`);
    logAction(`deleted the data of user ${uid} (${bytes(result.bytes)})`);
    await showUser(uid);
    await searchUsers();
  }

  async function saveQuota() {
    if (!current) return;
    const uid = current.userId;
    const raw = $('#quota-mb').value.trim();
    const quota = raw === '' ? null : Math.round(Number(raw) * 1048576);
    if (quota !== null && !(quota >= 0)) return status('The quota is a number of MB ≥ 0.');
    const text = quota === null ? 'the global quota' : bytes(quota);
    if (!(await confirmAction(`Set the quota of user ${uid} to ${text}?`))) return;
    await api('PUT', `/api/users/${uid}/quota`, { bytes: quota });
    logAction(`set the quota of user ${uid} to ${text}`);
    await showUser(uid);
  }

  async function retireUser() {
    if (!current) return;
    const uid = current.userId;
    if (
      !(await confirmAction(
        `Retire user ${uid} in the token server? Their account gets no token again (as when an FxA account is deleted); purge later deletes their data.`,
      ))
    )
      return;
    await api('POST', `/api/users/${uid}/retire`);
    logAction(`retired user ${uid} in the token server`);
    await showUser(uid);
  }

  async function loadNodes() {
    const { nodes } = await api('GET', '/api/nodes');
    const body = $('#nodes-table tbody');
    body.replaceChildren();
    for (const node of nodes) {
      const row = document.createElement('tr');
      cell(row, String(node.id));
      cell(row, node.node);
      const inputs = {};
      for (const key of ['capacity', 'available']) {
        const input = document.createElement('input');
        input.type = 'number';
        input.min = '0';
        input.value = String(node[key]);
        cell(row, '').append(input);
        inputs[key] = input;
      }
      cell(row, String(node.currentLoad));
      for (const key of ['downed', 'backoff']) {
        const input = document.createElement('input');
        input.type = 'checkbox';
        input.checked = node[key];
        cell(row, '').append(input);
        inputs[key] = input;
      }
      const save = document.createElement('button');
      save.textContent = 'Save…';
      save.addEventListener('click', async () => {
        const change = {
          capacity: Number(inputs.capacity.value),
          available: Number(inputs.available.value),
          downed: inputs.downed.checked,
          backoff: inputs.backoff.checked,
        };
        if (!(await confirmAction(`Change node ${node.node}: ${JSON.stringify(change)}?`))) return;
        await api('PATCH', `/api/nodes/${node.id}`, change);
        logAction(`changed node ${node.node}: ${JSON.stringify(change)}`);
        await loadNodes();
      });
      cell(row, '').append(save);
      body.append(row);
    }
  }

  async function loadPurge() {
    const purge = await api('GET', '/api/purge');
    const list = $('#purge-status');
    list.replaceChildren();
    const entries = [
      [
        'Every',
        purge.intervalSeconds > 0 ? `${purge.intervalSeconds} s` : 'never (run syncstorage purge)',
      ],
      ['Running', purge.running ? 'yes' : 'no'],
      ['Runs since start', String(purge.runs)],
      ['Last started', purge.lastStartedAt ?? '–'],
      ['Last finished', purge.lastFinishedAt ?? '–'],
      [
        'Last result',
        purge.lastResult
          ? `${purge.lastResult.bsoRowsPurged} items, ${purge.lastResult.batchesPurged} batches, ${purge.lastResult.batchItemsPurged} batch items${purge.lastResult.isComplete ? '' : ' (incomplete)'}`
          : '–',
      ],
      ['Last error', purge.lastError ?? '–'],
      ['Next run', purge.nextRunAt ?? '–'],
    ];
    definitions(list, entries);
  }

  async function runPurge() {
    if (!(await confirmAction('Purge expired items and batches now?'))) return;
    const { result } = await api('POST', '/api/purge');
    logAction(
      result
        ? `purged ${result.bsoRowsPurged} expired items`
        : 'the purge failed (see the server log)',
    );
    await loadPurge();
  }

  // --- Wiring ----------------------------------------------------------------

  const guarded = (fn) => () => void fn().catch((error) => status(error.message));
  for (const button of document.querySelectorAll('nav button')) {
    button.addEventListener('click', () => show(button.dataset.view));
  }
  $('#user-search').addEventListener('submit', (event) => {
    event.preventDefault();
    guarded(searchUsers)();
  });
  $('#delete-data').addEventListener('click', guarded(deleteData));
  $('#save-quota').addEventListener('click', guarded(saveQuota));
  $('#retire-user').addEventListener('click', guarded(retireUser));
  $('#run-purge').addEventListener('click', guarded(runPurge));
  $('#logout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin();
  });
  $('#login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('#token').value.trim());
    start();
  });

  function start() {
    if (!sessionStorage.getItem(TOKEN_KEY)) return showLogin();
    loadOverview()
      .then(() => {
        $('#login').hidden = true;
        $('main').hidden = false;
      })
      .catch((error) => status(error.message));
  }
  setInterval(() => {
    if (!$('#view-overview').hidden && !$('main').hidden) void loadOverview().catch(() => {});
  }, 30_000);
  start();
})();
