/* The patrol page's outbox on the device (IndexedDB): reports with their photos (as Blobs) and patrol tracks.
   Everything is written here before anything is sent, so closing the page or losing the network loses
   nothing; each report keeps its client UUID, which is the server's idempotency key. */
"use strict";

const Store = (() => {
  const NAME = "gise-patrol";
  let opened = null;

  function db() {
    opened = opened || new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, 1);
      req.onupgradeneeded = () => {
        const d = req.result;
        if (!d.objectStoreNames.contains("reports")) d.createObjectStore("reports", { keyPath: "id" });
        if (!d.objectStoreNames.contains("tracks")) d.createObjectStore("tracks", { keyPath: "id" });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    return opened;
  }
  function done(req) {
    return new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
  }
  async function run(store, mode, fn) {
    const tx = (await db()).transaction(store, mode);
    const result = await fn(tx.objectStore(store));
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); tx.onabort = () => reject(tx.error); });
    return result;
  }
  const put = (store, value) => run(store, "readwrite", (s) => done(s.put(value)));
  const get = (store, id) => run(store, "readonly", (s) => done(s.get(id)));
  const all = (store) => run(store, "readonly", (s) => done(s.getAll()));
  const remove = (store, id) => run(store, "readwrite", (s) => done(s.delete(id)));
  /* read, change and write one record in one transaction (so two tabs cannot interleave) */
  const update = (store, id, change) => run(store, "readwrite", async (s) => {
    const cur = await done(s.get(id));
    if (!cur) return null;
    const next = change(cur) || cur;
    await done(s.put(next));
    return next;
  });
  return { put, get, all, remove, update };
})();
