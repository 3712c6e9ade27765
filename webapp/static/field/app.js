/* The field app: today's households as cards, visits recorded offline first.

   Every record gets a UUID made on the phone (crypto.randomUUID) when its draft is made, and
   is kept in IndexedDB, with the user who made it, until the server confirms it; the UUID is
   the Idempotency-Key, so a record sent twice (two tabs, a page closed mid-sync, a lost
   answer) is written once. A draft is made once per household in one IndexedDB transaction,
   so two tabs share it; turning it into a record is another transaction that only a draft
   survives. The sync runs on open, when the network returns and on a timer with backoff,
   under a Web Lock so that one tab sends at a time. */
'use strict';

(() => {
  const body = document.body;
  const USER = body.dataset.user;
  const LANG = (document.documentElement.lang || 'zh-CN').toLowerCase().startsWith('zh') ? 'zh' : 'en';
  const WORDS = {
    zh: {
      title: '走访', pending: '待发送', logout: '退出', records: '今日记录',
      seen_all: '全部见到', partial: '部分见到', nobody_home: '无人在家',
      people_seen: '见到人数', fever_count: '发热人数', temperature: '体温 °C',
      waiting: '等待发送', sending: '发送中', sent: '已发送', rejected: '被拒绝：需核对',
      quarantine: '居家隔离', 'never visited': '从未走访', screening: '排查',
      visits_today: '今日已访', last_visit: '上次', none_due: '今天没有待访的户。',
      offline_list: '离线：显示上次保存的名单。', no_list: '离线，且没有保存的名单。',
      no_window: '现在不在测温时段内。', logout_pending: '还有 {n} 条记录未发送。仍要退出吗？记录会保留，下次用本账号登录后继续发送。',
      other_tab: '这条草稿已在另一个标签页提交。', building: '{n}号楼', unit: '{u}单元', room: '{r}室',
      signed_out: '登录已过期：记录已保存，重新登录后发送。', online: '在线', offline: '离线',
      household: '户',
      register: '登记返乡人员或发热', person: '人员', reason: '类别', origin: '从哪里返回',
      returnee: '返乡人员', fever: '发热', register_button: '登记居家隔离',
      register_returnee: '登记返乡人员', register_fever: '登记发热', origin_needed: '请填写从哪里返回。',
    },
    en: {
      title: 'Visits', pending: 'Unsent', logout: 'Sign out', records: "Today's records",
      seen_all: 'Seen all', partial: 'Partly seen', nobody_home: 'Nobody home',
      people_seen: 'People seen', fever_count: 'With fever', temperature: 'Temperature °C',
      waiting: 'waiting', sending: 'sending', sent: 'sent', rejected: 'rejected: needs checking',
      quarantine: 'home quarantine', 'never visited': 'never visited', screening: 'screening',
      visits_today: 'visits today', last_visit: 'last', none_due: 'No household is due today.',
      offline_list: 'Offline: showing the list saved last.', no_list: 'Offline, and no list saved.',
      no_window: 'Not in a temperature window now.', logout_pending: '{n} records are not sent yet. Sign out anyway? They stay on this phone and are sent when you sign in again.',
      other_tab: 'This draft was already recorded in another tab.', building: 'building {n}', unit: 'unit {u}', room: 'room {r}',
      signed_out: 'Signed out: the records are kept and sent after you sign in again.', online: 'online', offline: 'offline',
      household: 'household',
      register: 'Register a returnee or a fever case', person: 'Person', reason: 'Why', origin: 'Returned from',
      returnee: 'Returnee', fever: 'Fever', register_button: 'Register home quarantine',
      register_returnee: 'returnee registered', register_fever: 'fever case registered', origin_needed: 'Say where they returned from.',
    },
  };
  const t = (key, values = {}) => {
    const text = WORDS[LANG][key] || WORDS.en[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
  };

  // -- IndexedDB: records (by id, indexed by user) and each user's list of the day -------------

  const DB_NAME = 'wangge-field';
  const PENDING = ['waiting', 'sending'];
  let dbPromise = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => {
          const db = request.result;
          const records = db.createObjectStore('records', { keyPath: 'id' });
          records.createIndex('user', 'user');
          db.createObjectStore('lists', { keyPath: 'user' });
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return dbPromise;
  }

  /* Run `work(stores)` in one transaction; resolves with what it returned once committed. */
  async function inTransaction(names, mode, work) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(names, mode);
      const stores = Object.fromEntries(names.map((n) => [n, tx.objectStore(n)]));
      let result;
      Promise.resolve(work(stores)).then((value) => { result = value; }, (error) => {
        tx.abort();
        reject(error);
      });
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  const asPromise = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

  async function myRecords() {
    const all = await inTransaction(['records'], 'readonly',
      (s) => asPromise(s.records.index('user').getAll(USER)));
    return all.sort((a, b) => a.created - b.created);
  }

  /* The household's draft (made once, shared by every tab), or null while a record of it is
     still being sent. */
  function ensureDraft(household) {
    return inTransaction(['records'], 'readwrite', async (s) => {
      const mine = await asPromise(s.records.index('user').getAll(USER));
      const ofIt = mine.filter((r) => r.household === household && r.kind !== 'quarantine');
      const draft = ofIt.find((r) => r.state === 'draft');
      if (draft) return draft;
      if (ofIt.some((r) => PENDING.includes(r.state))) return null;
      const made = { id: crypto.randomUUID(), user: USER, household, state: 'draft', created: Date.now() };
      s.records.put(made);
      return made;
    });
  }

  /* The draft becomes a record to send; false when another tab already made it one. */
  function commitDraft(id, visit, label) {
    return inTransaction(['records'], 'readwrite', async (s) => {
      const record = await asPromise(s.records.get(id));
      if (!record || record.user !== USER || record.state !== 'draft') return false;
      Object.assign(record, { state: 'waiting', body: visit, label, recorded: Date.now() });
      s.records.put(record);
      return true;
    });
  }

  function setState(id, state, extra = {}) {
    return inTransaction(['records'], 'readwrite', async (s) => {
      const record = await asPromise(s.records.get(id));
      if (!record || record.user !== USER) return;
      Object.assign(record, extra, { state });
      s.records.put(record);
    });
  }

  /* Keep only this user's list: another user's is removed when this one opens the app. */
  function saveList(list) {
    return inTransaction(['lists'], 'readwrite', async (s) => {
      const users = await asPromise(s.lists.getAllKeys());
      users.filter((u) => u !== USER).forEach((u) => s.lists.delete(u));
      s.lists.put({ user: USER, saved: Date.now(), list });
    });
  }

  function loadList() {
    return inTransaction(['lists'], 'readwrite', async (s) => {
      const users = await asPromise(s.lists.getAllKeys());
      users.filter((u) => u !== USER).forEach((u) => s.lists.delete(u));
      const found = await asPromise(s.lists.get(USER));
      return found ? found.list : null;
    });
  }

  function forgetList() {
    return inTransaction(['lists'], 'readwrite', (s) => { s.lists.clear(); });
  }

  // -- drawing -----------------------------------------------------------------------------

  const channel = 'BroadcastChannel' in window ? new BroadcastChannel('wangge-field') : null;
  let list = null;

  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') node.textContent = v;
      else if (k.startsWith('data-') || k === 'type' || k === 'name' || k === 'min' || k === 'max'
               || k === 'step' || k === 'inputmode' || k === 'class' || k === 'value' || k === 'lang') {
        node.setAttribute(k, String(v));
      } else node[k] = v;
    }
    for (const child of children) node.append(child);
    return node;
  }

  function addressOf(a) {
    const parts = [a.village, a.compound];
    if (a.building) parts.push(a.building);
    else if (a.building_number) parts.push(t('building', { n: a.building_number }));
    if (a.unit) parts.push(t('unit', { u: a.unit }));
    if (a.room) parts.push(t('room', { r: a.room }));
    return parts.filter(Boolean).join(' · ') || t('household');
  }

  function currentWindow() {
    if (!list) return null;
    const now = Date.now();
    return (list.windows || []).find((w) => Date.parse(w.start) <= now && now < Date.parse(w.end)) || null;
  }

  function note(text) {
    const node = document.getElementById('note');
    node.hidden = !text;
    node.textContent = text || '';
  }

  function stateNode(record) {
    return el('span', { 'data-state': record.state, 'data-record': record.id, text: t(record.state) });
  }

  async function render() {
    const records = await myRecords();
    const pending = records.filter((r) => PENDING.includes(r.state));
    document.getElementById('pending-count').textContent = String(pending.length);
    const cards = document.getElementById('cards');
    const households = list ? list.households : [];
    const window_ = currentWindow();
    const fresh = [];
    for (const h of households) {
      const ofIt = records.filter((r) => r.household === h.id && r.state !== 'draft' && r.kind !== 'quarantine');
      const last = ofIt[ofIt.length - 1];
      const busy = last && PENDING.includes(last.state);
      const label = addressOf(h.address);
      const why = el('p', { class: 'why' }, [
        el('span', { class: h.reason === 'quarantine' ? 'q' : '', text: t(h.reason) }),
        ` · ${t('visits_today')} ${h.visits_today}`,
      ]);
      const counts = el('div', { class: 'counts' }, [
        el('label', {}, [t('people_seen'), el('input', { type: 'number', name: 'people_seen', min: 0, max: 1000, inputmode: 'numeric' })]),
        el('label', {}, [t('fever_count'), el('input', { type: 'number', name: 'fever_count', min: 0, max: 1000, inputmode: 'numeric', value: 0 })]),
      ]);
      const temps = el('div', { class: 'temps' });
      if (h.people.length) {
        if (window_) {
          temps.append(el('span', { class: 'window', text: `${t('temperature')} · ${window_.label}` }));
          for (const p of h.people) {
            temps.append(el('label', {}, [p.name || '—', el('input', {
              type: 'number', name: 'temperature', step: '0.1', min: 34, max: 43, inputmode: 'decimal',
              'data-resident': p.resident,
            })]));
          }
        } else temps.append(el('span', { class: 'window', text: t('no_window') }));
      }
      const buttons = el('div', { class: 'buttons' }, ['seen_all', 'partial', 'nobody_home'].map(
        (result) => el('button', { type: 'button', 'data-result': result, text: t(result), disabled: Boolean(busy) }),
      ));
      const card = el('article', { class: 'card', 'data-household': h.id }, [
        el('h2', { text: label }), why, counts, temps, buttons,
      ]);
      const free = (h.residents || []).filter((p) => !p.in_quarantine);
      if (free.length) {
        card.append(el('details', { class: 'register' }, [
          el('summary', { text: t('register') }),
          el('label', {}, [t('person'), el('select', { name: 'resident' },
            free.map((p) => el('option', { value: p.resident, text: p.name || '—' })))]),
          el('label', {}, [t('reason'), el('select', { name: 'reason' }, ['returnee', 'fever'].map(
            (r) => el('option', { value: r, text: t(r) })))]),
          el('label', {}, [t('origin'), el('input', { type: 'text', name: 'origin', maxLength: 200 })]),
          el('button', { type: 'button', class: 'register-button', 'data-register': 'home', text: t('register_button') }),
        ]));
      }
      if (last) card.append(el('p', { class: 'state' }, [stateNode(last)]));
      card.dataset.label = label;
      fresh.push(card);
    }
    const typed = new Map();
    for (const input of cards.querySelectorAll('input')) {
      const card = input.closest('[data-household]');
      typed.set(`${card.dataset.household}|${input.name}|${input.dataset.resident || ''}`, input.value);
    }
    for (const card of fresh) {
      for (const input of card.querySelectorAll('input')) {
        const key = `${card.dataset.household}|${input.name}|${input.dataset.resident || ''}`;
        if (typed.has(key)) input.value = typed.get(key);
      }
    }
    cards.replaceChildren(...fresh);
    if (list && !households.length) cards.append(el('p', { class: 'empty', text: t('none_due') }));
    const what = (r) => (r.kind === 'quarantine' ? t(`register_${r.body.reason}`) : t(r.body.result));
    const items = records.filter((r) => r.state !== 'draft').reverse().map((r) => el('li', {}, [
      el('span', { text: `${r.label || r.household} · ${what(r)}` }), stateNode(r),
    ]));
    document.getElementById('records').replaceChildren(...items);
  }

  function changed() {
    if (channel) channel.postMessage('changed');
    return render();
  }

  // -- recording ---------------------------------------------------------------------------

  const whole = (input) => (input && input.value !== '' ? Math.max(0, Math.round(Number(input.value))) : null);

  const drafts = new Map();
  /* The household's draft id, made once at the first touch of its card and kept. */
  async function draftOf(household) {
    if (!drafts.has(household)) {
      const draft = await ensureDraft(household);
      if (!draft) return null;
      drafts.set(household, draft.id);
    }
    return drafts.get(household);
  }

  async function record(card, result) {
    const household = Number(card.dataset.household);
    const draftId = await draftOf(household);
    drafts.delete(household);
    if (!draftId) return render();
    const window_ = currentWindow();
    const temperatures = [...card.querySelectorAll('input[name=temperature]')]
      .filter((i) => i.value !== '' && window_)
      .map((i) => ({ resident: i.dataset.resident, window: window_.label, temperature_c: Number(i.value) }));
    const visit = {
      visited_at: new Date().toISOString(),
      result,
      people_seen: whole(card.querySelector('input[name=people_seen]')),
      fever_count: whole(card.querySelector('input[name=fever_count]')) || 0,
      temperatures,
      late: false,
    };
    const done = await commitDraft(draftId, visit, card.dataset.label);
    if (!done) note(t('other_tab'));
    for (const input of card.querySelectorAll('input')) input.value = input.name === 'fever_count' ? '0' : '';
    await changed();
    syncSoon();
  }

  /* A returnee or a fever case put in home quarantine: a record of its own, sent like a visit. */
  async function register(card) {
    const reason = card.querySelector('select[name=reason]').value;
    const origin = card.querySelector('input[name=origin]').value.trim();
    if (reason === 'returnee' && !origin) {
      note(t('origin_needed'));
      return;
    }
    note('');
    const made = {
      id: crypto.randomUUID(), user: USER, household: Number(card.dataset.household), kind: 'quarantine',
      state: 'waiting', created: Date.now(), label: card.dataset.label,
      body: {
        resident: card.querySelector('select[name=resident]').value, type: 'home', reason,
        origin: origin || null, start: new Date().toISOString(),
      },
    };
    await inTransaction(['records'], 'readwrite', (s) => { s.records.put(made); });
    card.querySelector('details.register').open = false;
    await changed();
    syncSoon();
  }

  document.getElementById('cards').addEventListener('focusin', (event) => {
    const card = event.target.closest('[data-household]');
    if (card) draftOf(Number(card.dataset.household)).catch(() => undefined);
  });

  document.getElementById('cards').addEventListener('click', (event) => {
    const registering = event.target.closest('button[data-register]');
    if (registering) {
      register(registering.closest('[data-household]'));
      return;
    }
    const button = event.target.closest('button[data-result]');
    if (!button || button.disabled) return;
    button.disabled = true;
    record(button.closest('[data-household]'), button.dataset.result);
  });

  // -- the day's list ----------------------------------------------------------------------

  async function refreshList() {
    try {
      const response = await fetch(body.dataset.todayUrl, {
        credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' },
      });
      if (!response.ok) throw new Error(String(response.status));
      const fetched = await response.json();
      if (fetched.user !== USER) return;
      list = fetched;
      await saveList(list);
      note('');
    } catch (error) {
      list = list || (await loadList());
      note(list ? t('offline_list') : t('no_list'));
    }
    await render();
  }

  // -- the sync ------------------------------------------------------------------------------

  const BASE_DELAY = 3000;
  const MAX_DELAY = 120000;
  let delay = BASE_DELAY;
  let timer = null;

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(sync, ms);
  }

  function syncSoon() { schedule(50); }

  function showOnline() {
    const net = document.getElementById('net');
    net.dataset.online = String(navigator.onLine);
    net.textContent = navigator.onLine ? t('online') : t('offline');
  }

  let sentSome = false;

  /* Send each waiting record once; on a network failure stop and back off. */
  async function sendAll() {
    const toSend = (await myRecords()).filter((r) => PENDING.includes(r.state));
    if (!toSend.length) return true;
    sentSome = true;
    let token;
    try {
      const response = await fetch(body.dataset.sessionUrl, {
        credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' },
      });
      if (response.status === 401 || response.status === 403) {
        note(t('signed_out'));
        return false;
      }
      if (!response.ok) return false;
      const session = await response.json();
      if (session.user !== USER) return false; // another account signed in: these wait for theirs
      token = session.csrf_token;
    } catch (error) {
      return false;
    }
    for (const r of toSend) {
      const resent = Boolean(r.attempts);
      await setState(r.id, 'sending', { attempts: (r.attempts || 0) + 1 });
      await changed();
      let response;
      try {
        const url = r.kind === 'quarantine' ? '/api/v1/quarantines' : `/api/v1/households/${r.household}/visits`;
        response = await fetch(url, {
          method: 'POST',
          credentials: 'same-origin',
          headers: {
            'Content-Type': 'application/json', Accept: 'application/json',
            'Idempotency-Key': r.id, 'X-CSRFToken': token,
          },
          body: JSON.stringify(r.body),
        });
      } catch (error) {
        await setState(r.id, 'waiting');
        await changed();
        return false;
      }
      let answer = null;
      try { answer = await response.json(); } catch (error) { answer = null; }
      const message = answer && (answer.message || answer.error);
      // A registration sent again after its answer was lost finds the quarantine it made.
      const madeBefore = r.kind === 'quarantine' && resent && response.status === 409
        && /already in (an )?active quarantine/.test(message || '');
      if (response.status === 201 || response.status === 200 || madeBefore) {
        await setState(r.id, 'sent', { visit: answer && answer.visit, sent: Date.now() });
      } else if (response.status === 409 || (response.status === 400 && !/csrf/i.test(message || ''))
                 || response.status === 404) {
        await setState(r.id, 'rejected', { status: response.status, message });
      } else {
        await setState(r.id, 'waiting');
        await changed();
        return false;
      }
      await changed();
    }
    return true;
  }

  let running = false;

  async function sync() {
    clearTimeout(timer);
    if (running) return;
    running = true;
    let ok = false;
    try {
      if (navigator.locks) {
        ok = await navigator.locks.request(`wangge-field-sync:${USER}`, { ifAvailable: true },
          async (lock) => (lock ? sendAll() : true));
      } else ok = await sendAll();
    } catch (error) {
      ok = false;
    } finally {
      running = false;
    }
    const pending = (await myRecords()).some((r) => PENDING.includes(r.state));
    if (ok && sentSome && !pending) {
      sentSome = false;
      await refreshList(); // the households just seen leave the day's list
    }
    delay = ok ? BASE_DELAY : Math.min(delay * 2, MAX_DELAY);
    if (pending || !ok) schedule(delay);
    else schedule(60000);
  }

  // -- signing out ---------------------------------------------------------------------------

  document.getElementById('logout').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const pending = (await myRecords()).filter((r) => PENDING.includes(r.state)).length;
    if (pending && !window.confirm(t('logout_pending', { n: pending }))) return;
    try { // the shell may come from the cache with an older session's token
      const response = await fetch(body.dataset.sessionUrl, {
        credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' },
      });
      if (response.ok) form.querySelector('input[name=csrf_token]').value = (await response.json()).csrf_token;
    } catch (error) { /* offline: the form's own token */ }
    await forgetList();
    if ('caches' in window) {
      const cache = await caches.open('wangge-field-shell-v1');
      await cache.delete(body.dataset.scope);
    }
    form.submit();
  });

  // -- start -----------------------------------------------------------------------------------

  for (const node of document.querySelectorAll('[data-t]')) node.textContent = t(node.dataset.t);
  document.title = `${t('title')} · wangge`;
  showOnline();
  window.addEventListener('online', () => { showOnline(); delay = BASE_DELAY; refreshList(); syncSoon(); });
  window.addEventListener('offline', showOnline);
  if (channel) channel.onmessage = () => render();
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => false);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(body.dataset.swUrl, { scope: body.dataset.scope }).catch(() => undefined);
  }
  // A record left 'sending' by a page closed mid-sync is sent again under its key.
  inTransaction(['records'], 'readwrite', async (s) => {
    const mine = await asPromise(s.records.index('user').getAll(USER));
    mine.filter((r) => r.state === 'sending').forEach((r) => s.records.put({ ...r, state: 'waiting' }));
  }).then(() => refreshList()).then(() => sync());
})();
