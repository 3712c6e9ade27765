/* The field app's store in IndexedDB: records (by id, indexed by user) and each user's list
   of the day. `WanggeField.store(user)` gives the functions of one user's records and list;
   every change is one transaction, so two tabs see one draft of a household. */
'use strict';

window.WanggeField = window.WanggeField || {};
window.WanggeField.store = (USER) => {

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

  function putRecord(record) {
    return inTransaction(['records'], 'readwrite', (s) => { s.records.put(record); });
  }

  /* A record left 'sending' by a page closed mid-sync is sent again under its key. */
  function resendInterrupted() {
    return inTransaction(['records'], 'readwrite', async (s) => {
      const mine = await asPromise(s.records.index('user').getAll(USER));
      mine.filter((r) => r.state === 'sending').forEach((r) => s.records.put({ ...r, state: 'waiting' }));
    });
  }

  return {
    PENDING, myRecords, ensureDraft, commitDraft, setState, saveList, loadList, forgetList,
    putRecord, resendInterrupted,
  };
};
