/*
 * The phone's own storage (IndexedDB), which outlives a reload, a closed tab and a dead battery:
 *   outbox   every write waiting to be sent, in the order it was made (auto-increment id);
 *   points   a patrol's track points (sent ones are kept for the live map until the patrol ends);
 *   drafts   photos of forms not yet sent (the forms' text is in localStorage, see drafts.js);
 *   results  what the server answered to each sent write, by its idempotency key.
 */

const NAME = "civicgrid-mobile";
const VERSION = 1;
let opening = null;

function upgrade(db) {
  const outbox = db.createObjectStore("outbox", { keyPath: "id", autoIncrement: true });
  outbox.createIndex("key", "key", { unique: true });
  const points = db.createObjectStore("points", { keyPath: ["patrol", "seq"] });
  points.createIndex("patrol", "patrol");
  db.createObjectStore("drafts", { keyPath: "name" });
  const results = db.createObjectStore("results", { keyPath: "key" });
  results.createIndex("at", "at");
}

export function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, VERSION);
      request.onupgradeneeded = () => upgrade(request.result);
      request.onsuccess = () => {
        const db = request.result;
        // Another tab upgrading the schema: let it, and open again next time.
        db.onversionchange = () => {
          db.close();
          opening = null;
        };
        resolve(db);
      };
      request.onerror = () => reject(request.error);
    });
  }
  return opening;
}

/** A request's result as a promise. */
export function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Run ``work(tx)`` in one transaction over ``stores`` and resolve with its result once the
 * transaction has committed (so nothing is reported as stored that could still be rolled back).
 */
export async function transact(stores, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(stores, mode);
    let result;
    let failed = null;
    Promise.resolve()
      .then(() => work(tx))
      .then(
        (value) => {
          result = value;
        },
        (error) => {
          failed = error;
          try {
            tx.abort();
          } catch (ignored) {
            // already finished
          }
        },
      );
    tx.oncomplete = () => (failed ? reject(failed) : resolve(result));
    tx.onabort = () => reject(failed || tx.error);
    tx.onerror = () => {};
  });
}

export function all(store, index = null, query = undefined) {
  return transact([store], "readonly", (tx) => {
    const source = index ? tx.objectStore(store).index(index) : tx.objectStore(store);
    return done(source.getAll(query));
  });
}

export function get(store, key) {
  return transact([store], "readonly", (tx) => done(tx.objectStore(store).get(key)));
}

export function getBy(store, index, key) {
  return transact([store], "readonly", (tx) => done(tx.objectStore(store).index(index).get(key)));
}

export function put(store, value) {
  return transact([store], "readwrite", (tx) => done(tx.objectStore(store).put(value)));
}

export function remove(store, key) {
  return transact([store], "readwrite", (tx) => done(tx.objectStore(store).delete(key)));
}
