/*
 * The outbox: every write the worker makes (a report with its photos, a move, a patrol's start,
 * points and stop, a check-in, an inspection) is first stored on the phone with its own
 * idempotency key, then sent in the order it was made — at once when there is a connection,
 * else when it returns ('online'), when the app starts and on a timer.
 *
 *   2xx (or the server's replay of a key it already has)  → sent: removed, its answer kept;
 *   no connection, 5xx, 429                                → kept, retried with backoff
 *                                                            (a 5xx becomes a conflict after
 *                                                            SERVER_ERROR_TRIES, not retried forever);
 *   401, or 403 "forbidden" (the session or its CSRF token expired) → kept, and every screen
 *                                                            asks the worker to sign in again;
 *   409 and other 4xx (the case moved on, the patrol ended, outside the geofence …)
 *                                                          → a conflict: kept with the server's
 *                                                            message until the worker retries
 *                                                            or discards it on the queue screen.
 *
 * Exactly once: an item leaves the outbox only after the server's answer; if the answer is lost
 * the item goes again with the same key and the server replays its first answer. One tab sends
 * at a time (Web Locks), so two open tabs cannot send the same item at once.
 */

import { csrfToken, t, uuid } from "./core.js";
import * as store from "./store.js";

const LOCK = "civicgrid-outbox";
const TICK_MS = 15_000;
const BACKOFF_MS = [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000];
const SERVER_ERROR_TRIES = 5;
const RESULTS_KEPT_DAYS = 14;
const AUTH_FLAG = "civicgrid.signInNeeded";
// Refusals that mean "this was done already": the answer to an earlier try was lost. Raising a
// case from a failed checkpoint has no idempotency key; its second try says which case it made.
const ALREADY_DONE = {
  inspection_case: { code: "case_already_raised", data: (detail) => ({ number: detail.number }) },
};

/** "change" (the queue changed), "sent" {item, data}, "conflict" {item, error}, "auth". */
export const events = new EventTarget();

// What the queue and the history call each kind of write (labels from the server).
const KIND_LABELS = {
  report: "kindReport",
  resolve: "kindResolve",
  move: "kindMove",
  patrol_start: "kindPatrolStart",
  patrol_points: "kindPatrolPoints",
  patrol_stop: "kindPatrolStop",
  checkin: "kindCheckin",
  inspection: "kindInspection",
  inspection_case: "kindInspectionCase",
};

export function kindLabel(kind) {
  return KIND_LABELS[kind] ? t(KIND_LABELS[kind]) : kind;
}
const channel = "BroadcastChannel" in window ? new BroadcastChannel("civicgrid-outbox") : null;

function emit(type, detail = {}, broadcast = true) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
  if (broadcast && channel) {
    // Blobs and the item's body stay here: other tabs only need to know what happened.
    const light = detail.item ? { ...detail, item: strip(detail.item) } : detail;
    channel.postMessage({ type, detail: light });
  }
}

function strip(item) {
  const { body, ...rest } = item;
  return rest;
}

if (channel) {
  channel.onmessage = (message) => emit(message.data.type, message.data.detail, false);
}

/**
 * Queue a write. ``spec``: {kind, title, url, body, patrolKey?, patrolOptional?, meta?} where
 * ``body`` is {json: {...}} or {form: [[name, value], ...], files: [[name, Blob, filename], ...]}.
 * A URL or JSON value "{patrol}" is replaced by the server's id of the patrol ``patrolKey``
 * started, once that start has been answered. ``also(tx)`` runs in the same transaction
 * (the track's points are marked as queued together with their batch).
 */
export async function enqueue(spec, also = null) {
  const item = {
    key: spec.key || uuid(),
    kind: spec.kind,
    title: spec.title || "",
    url: spec.url,
    body: spec.body || { json: {} },
    patrolKey: spec.patrolKey || null,
    patrolOptional: Boolean(spec.patrolOptional),
    meta: spec.meta || {},
    state: "pending",
    attempts: 0,
    nextAt: 0,
    createdAt: new Date().toISOString(),
    error: null,
  };
  const stores = also ? ["outbox", ...also.stores] : ["outbox"];
  item.id = await store.transact(stores, "readwrite", async (tx) => {
    const id = await store.done(tx.objectStore("outbox").add(item));
    if (also) {
      await also.work(tx);
    }
    return id;
  });
  emit("change", { item });
  flushSoon();
  return item;
}

export async function items() {
  return (await store.all("outbox")).sort((a, b) => a.id - b.id);
}

export function result(key) {
  return store.get("results", key);
}

export async function recentResults(limit = 20) {
  const rows = await store.all("results");
  return rows.sort((a, b) => (a.at < b.at ? 1 : -1)).slice(0, limit);
}

/** Send a conflicted (or waiting) item again, now; ``change(item)`` may adjust it first. */
export async function retry(id, change = null) {
  const item = await store.get("outbox", id);
  if (!item) {
    return;
  }
  if (change) {
    change(item);
  }
  Object.assign(item, { state: "pending", nextAt: 0, attempts: 0, error: null });
  await store.put("outbox", item);
  emit("change", { item });
  return flush();
}

export async function discard(id) {
  const item = await store.get("outbox", id);
  await store.remove("outbox", id);
  emit("change", { item: item ? strip(item) : { id } });
}

export function signInNeeded() {
  return localStorage.getItem(AUTH_FLAG) === "1";
}

function setSignInNeeded(needed) {
  const was = signInNeeded();
  if (needed) {
    localStorage.setItem(AUTH_FLAG, "1");
  } else {
    localStorage.removeItem(AUTH_FLAG);
  }
  if (was !== needed) {
    emit("auth", { needed });
  }
}

/* --- sending --------------------------------------------------------------------------------- */

async function patrolId(key) {
  const answer = await store.get("results", key);
  return answer && answer.data ? answer.data.id : null;
}

function substitute(value, id) {
  if (typeof value === "string") {
    return value.replace("{patrol}", String(id));
  }
  if (Array.isArray(value)) {
    return value.map((v) => substitute(v, id));
  }
  if (value && typeof value === "object" && !(value instanceof Blob)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === "{patrol}" ? id : substitute(v, id)]));
  }
  return value;
}

/** {url, body} ready to send; {wait: true} while its patrol's start is still queued. */
async function prepare(item) {
  if (!item.patrolKey) {
    return { url: item.url, body: item.body };
  }
  const id = await patrolId(item.patrolKey);
  if (id !== null && id !== undefined) {
    return { url: substitute(item.url, id), body: substitute(item.body, id) };
  }
  const start = await store.getBy("outbox", "key", item.patrolKey);
  if (start && start.state === "pending") {
    return { wait: true };
  }
  if (item.patrolOptional) {
    const json = { ...(item.body.json || {}) };
    delete json.patrol;
    return { url: item.url, body: { json } };
  }
  return { problem: { status: 0, code: "patrol_not_started", message: "" } };
}

function request(body, key) {
  const headers = { "Idempotency-Key": key, "X-CSRFToken": csrfToken(), Accept: "application/json" };
  if (body.json) {
    headers["Content-Type"] = "application/json";
    return { headers, body: JSON.stringify(body.json) };
  }
  const form = new FormData();
  for (const [name, value] of body.form || []) {
    form.append(name, value === null || value === undefined ? "" : String(value));
  }
  for (const [name, blob, filename] of body.files || []) {
    form.append(name, blob, filename || "photo.jpg");
  }
  return { headers, body: form };
}

async function finish(item, data, response) {
  const answer = {
    key: item.key,
    kind: item.kind,
    title: item.title,
    meta: item.meta,
    at: new Date().toISOString(),
    status: response.status,
    replayed: response.headers.get("Idempotent-Replay") === "true" || Boolean(data && data.replayed),
    data,
  };
  await store.transact(["outbox", "results"], "readwrite", async (tx) => {
    await store.done(tx.objectStore("outbox").delete(item.id));
    await store.done(tx.objectStore("results").put(answer));
  });
  emit("sent", { item, data, replayed: answer.replayed });
  emit("change", { item });
}

async function mark(item, changes) {
  Object.assign(item, changes);
  await store.put("outbox", item);
  emit("change", { item });
}

async function conflict(item, error) {
  await mark(item, { state: "conflict", error });
  emit("conflict", { item, error });
}

function later(item, error) {
  const attempts = item.attempts + 1;
  const wait = BACKOFF_MS[Math.min(attempts - 1, BACKOFF_MS.length - 1)];
  // A little jitter, so that a street's phones coming out of the same basement do not all retry at once.
  return mark(item, { attempts, error, nextAt: Date.now() + wait + Math.random() * 1000 });
}

/** Send one item; the answer says whether the queue may go on to the next one. */
async function send(item) {
  const prepared = await prepare(item);
  if (prepared.wait) {
    return "stop";
  }
  if (prepared.problem) {
    await conflict(item, prepared.problem);
    return "next";
  }
  const { headers, body } = request(prepared.body, item.key);
  let response;
  try {
    response = await fetch(prepared.url, { method: "POST", credentials: "same-origin", headers, body });
  } catch (error) {
    await later(item, { status: 0, code: "network", message: "" });
    return "stop";
  }
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    data = null;
  }
  if (response.ok) {
    setSignInNeeded(false);
    await finish(item, data, response);
    return "next";
  }
  const error = {
    status: response.status,
    code: (data && data.error && data.error.code) || `http_${response.status}`,
    message: (data && data.error && data.error.message) || response.statusText || "",
    detail: (data && data.error && data.error.detail) || {},
  };
  const done = ALREADY_DONE[item.kind];
  if (done && error.code === done.code) {
    await finish(item, { ...done.data(error.detail), replayed: true }, response);
    return "next";
  }
  if (response.status === 401 || (response.status === 403 && error.code === "forbidden")) {
    await mark(item, { error, nextAt: 0 });
    setSignInNeeded(true);
    return "stop";
  }
  if (response.status === 429 || response.status === 408) {
    await later(item, error);
    return "stop";
  }
  if (response.status >= 500) {
    if (item.attempts + 1 >= SERVER_ERROR_TRIES) {
      await conflict(item, error);
      return "next";
    }
    await later(item, error);
    return "stop";
  }
  await conflict(item, error);
  return "next";
}

async function drain() {
  if (!navigator.onLine) {
    return; // certainly offline: no attempt, no backoff; 'online' starts the queue again
  }
  for (const item of await items()) {
    if (item.state !== "pending") {
      continue; // a conflict waits for the worker; it does not hold up the rest
    }
    if (item.nextAt > Date.now()) {
      return; // in order: nothing overtakes an item waiting for its retry
    }
    emit("sending", { item }, false);
    if ((await send(item)) === "stop") {
      return;
    }
  }
}

let running = null;
let again = false;

/** Send what can be sent now. Resolves when this tab is done (or another tab is sending). */
export function flush() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      if (navigator.locks) {
        await navigator.locks.request(LOCK, { ifAvailable: true }, async (lock) => (lock ? drain() : null));
      } else {
        await drain();
      }
    } while (again);
  })()
    .catch((error) => console.error("outbox", error))
    .finally(() => {
      running = null;
    });
  return running;
}

let soon = null;

export function flushSoon() {
  clearTimeout(soon);
  soon = setTimeout(flush, 50);
}

/** Send everything now, even items waiting for their retry (the worker asked for it). */
export async function sendNow() {
  for (const item of await items()) {
    if (item.state === "pending" && item.nextAt) {
      await mark(item, { nextAt: 0 });
    }
  }
  return flush();
}

async function pruneResults() {
  const before = new Date(Date.now() - RESULTS_KEPT_DAYS * 86_400_000).toISOString();
  await store.transact(["results"], "readwrite", (tx) => {
    const range = IDBKeyRange.upperBound(before);
    tx.objectStore("results").index("at").openCursor(range).onsuccess = (event) => {
      const cursor = event.target.result;
      if (cursor) {
        cursor.delete();
        cursor.continue();
      }
    };
  });
}

let started = false;

export function start() {
  if (started) {
    return;
  }
  started = true;
  window.addEventListener("online", () => sendNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      flush();
    }
  });
  setInterval(flush, TICK_MS);
  pruneResults().catch(() => {});
  flush();
}

