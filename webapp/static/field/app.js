/* The field app: today's households as cards, visits recorded offline first.

   Every record gets a UUID made on the phone (crypto.randomUUID) when its draft is made, and
   is kept in IndexedDB, with the user who made it, until the server confirms it; the UUID is
   the Idempotency-Key, so a record sent twice (two tabs, a page closed mid-sync, a lost
   answer) is written once. A draft is made once per household in one IndexedDB transaction,
   so two tabs share it; turning it into a record is another transaction that only a draft
   survives. The sync runs on open, when the network returns and on a timer with backoff,
   under a Web Lock so that one tab sends at a time. Its words are in words.js, its store in
   store.js (loaded before it). */
'use strict';

(() => {
  const body = document.body;
  const USER = body.dataset.user;
  const LANG = (document.documentElement.lang || 'zh-CN').toLowerCase().startsWith('zh') ? 'zh' : 'en';
  const t = window.WanggeField.words(LANG);
  const {
    PENDING, myRecords, ensureDraft, commitDraft, setState, saveList, loadList, forgetList,
    putRecord, resendInterrupted,
  } = window.WanggeField.store(USER);

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
    await putRecord(made);
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
  resendInterrupted().then(() => refreshList()).then(() => sync());
})();
