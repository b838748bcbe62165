/*
 * The patrol tracker. While a patrol runs it follows the phone's position on every screen of the
 * app (reporting a case on the way does not stop the track), keeps each point in IndexedDB with
 * its sequence number, and queues them in batches — every BATCH_MS or BATCH_POINTS points — in
 * the outbox, which sends them after the patrol's start. The server ignores a point whose seq it
 * already has, so a batch sent twice adds nothing.
 *
 * The patrol's own key is the idempotency key of its start; until the start is answered, the
 * points and the stop wait behind it in the outbox and name the patrol as "{patrol}".
 */

import { t, uuid } from "./core.js";
import * as geo from "./geo.js";
import * as outbox from "./outbox.js";
import * as store from "./store.js";

const STATE = "civicgrid.patrol";
const LAST = "civicgrid.patrol.last";
export const BATCH_MS = 30_000;
export const BATCH_POINTS = 50;
const MAX_BATCH = 1000; // the API's limit per request
const API = "/api/v1/patrol/";

export const events = new EventTarget();

export function state() {
  try {
    return JSON.parse(localStorage.getItem(STATE) || "null");
  } catch (error) {
    return null;
  }
}

function save(value) {
  if (value) {
    localStorage.setItem(STATE, JSON.stringify(value));
  } else {
    localStorage.removeItem(STATE);
  }
  events.dispatchEvent(new CustomEvent("state", { detail: value }));
}

export function lastResult() {
  try {
    return JSON.parse(localStorage.getItem(LAST) || "null");
  } catch (error) {
    return null;
  }
}

export function points(key) {
  return store.all("points", "patrol", key).then((rows) => rows.sort((a, b) => a.seq - b.seq));
}

let unfollow = null;
let timer = null;
let unsent = 0;
let lastT = null;
let wakeLock = null;

async function keepAwake() {
  // Browsers stop the position of a page whose screen is off: keep it on while on patrol.
  if ("wakeLock" in navigator && document.visibilityState === "visible" && !wakeLock) {
    try {
      wakeLock = await navigator.wakeLock.request("screen");
      wakeLock.addEventListener("release", () => {
        wakeLock = null;
      });
    } catch (error) {
      wakeLock = null;
    }
  }
}

async function record(fix) {
  const current = state();
  if (!fix || !current || current.stopping || fix.t === lastT) {
    return;
  }
  lastT = fix.t;
  current.seq += 1;
  localStorage.setItem(STATE, JSON.stringify(current));
  const point = { patrol: current.key, seq: current.seq, t: fix.t, lon: fix.lon, lat: fix.lat, accuracy: fix.accuracy, queued: false };
  await store.put("points", point);
  unsent += 1;
  events.dispatchEvent(new CustomEvent("point", { detail: point }));
  if (unsent >= BATCH_POINTS) {
    await batch();
  }
}

let batching = null;

/** Queue the points not yet queued, in one outbox item (atomically marked as queued). */
export function batch() {
  if (!batching) {
    batching = queueBatch().finally(() => {
      batching = null;
    });
  }
  return batching;
}

async function queueBatch() {
  const current = state();
  if (!current) {
    return;
  }
  const waiting = (await points(current.key)).filter((p) => !p.queued).slice(0, MAX_BATCH);
  unsent = 0;
  if (!waiting.length) {
    return;
  }
  await outbox.enqueue(
    {
      kind: "patrol_points",
      title: t("queuePoints", { n: waiting.length, grid: current.gridName || current.grid }),
      url: `${API}patrols/{patrol}/points`,
      body: {
        json: {
          points: waiting.map((p) => ({ seq: p.seq, t: p.t, lon: p.lon, lat: p.lat, accuracy: p.accuracy ?? null })),
        },
      },
      patrolKey: current.key,
      meta: { patrolKey: current.key, first: waiting[0].seq, last: waiting[waiting.length - 1].seq },
    },
    {
      stores: ["points"],
      work: async (tx) => {
        const table = tx.objectStore("points");
        for (const p of waiting) {
          await store.done(table.put({ ...p, queued: true }));
        }
      },
    },
  );
}

function begin() {
  if (unfollow) {
    return;
  }
  unfollow = geo.follow((fix) => record(fix));
  timer = setInterval(batch, BATCH_MS);
  keepAwake();
  document.addEventListener("visibilitychange", keepAwake);
  points(state().key).then((rows) => {
    unsent = rows.filter((p) => !p.queued).length;
  });
}

function end() {
  if (unfollow) {
    unfollow();
    unfollow = null;
  }
  clearInterval(timer);
  document.removeEventListener("visibilitychange", keepAwake);
  if (wakeLock) {
    wakeLock.release().catch(() => {});
    wakeLock = null;
  }
}

/** Start a patrol in ``grid``: queued at once, tracked from now. */
export async function start(grid, gridName) {
  const key = uuid();
  const startedAt = new Date().toISOString();
  save({ key, grid, gridName, startedAt, seq: 0, id: null, stopping: false });
  localStorage.removeItem(LAST);
  await outbox.enqueue({
    key,
    kind: "patrol_start",
    title: t("queuePatrolStart", { grid: gridName || grid }),
    url: `${API}patrols`,
    body: { json: { grid, started_at: startedAt, client_key: key } },
    meta: { patrolKey: key, grid },
  });
  begin();
}

/** Carry on with a patrol the server says is running (started earlier, or on another phone). */
export async function adopt(active, gridName) {
  const key = `patrol-${active.id}`;
  await store.put("results", { key, kind: "patrol_start", at: new Date().toISOString(), data: { id: active.id } });
  save({
    key,
    grid: active.grid,
    gridName,
    startedAt: active.started_at,
    // Past what the server has, so that no point of this phone is taken for one it already has.
    seq: (active.points || 0) + 1_000_000,
    id: active.id,
    stopping: false,
  });
  begin();
}

/** The start was refused: drop this patrol, its queued writes and its points from the phone. */
export async function abandon() {
  const current = state();
  if (!current) {
    return;
  }
  end();
  for (const item of await outbox.items()) {
    if (item.key === current.key || item.patrolKey === current.key) {
      await outbox.discard(item.id);
    }
  }
  const rows = await points(current.key);
  await store.transact(["points"], "readwrite", async (tx) => {
    for (const p of rows) {
      await store.done(tx.objectStore("points").delete([p.patrol, p.seq]));
    }
  });
  save(null);
}

/** The start (``startKey``, default this phone's patrol's) was refused because a patrol is
 * running already: carry on with that one instead (the queued points and stop go to it). */
export async function takeOver(id, startKey = null) {
  const current = state();
  const key = startKey || (current && current.key);
  if (!key) {
    return;
  }
  await store.put("results", { key, kind: "patrol_start", at: new Date().toISOString(), data: { id } });
  const start = (await outbox.items()).find((item) => item.key === key);
  if (start) {
    await outbox.discard(start.id);
  }
  if (current && current.key === key) {
    current.id = id;
    save(current);
  }
  await outbox.flush();
}

/** The start's refusal, while it waits in the queue as a conflict (else null). */
export async function startRefusal() {
  const current = state();
  if (!current || current.id) {
    return null;
  }
  const start = (await outbox.items()).find((item) => item.key === current.key);
  return start && start.state === "conflict" ? start.error : null;
}

/** Stop: the last points and the stop are queued; the result comes when the stop is sent. */
export async function stop() {
  const current = state();
  if (!current || current.stopping) {
    return;
  }
  end();
  await batch();
  current.stopping = true;
  current.stopKey = uuid();
  save(current);
  await outbox.enqueue({
    key: current.stopKey,
    kind: "patrol_stop",
    title: t("queuePatrolStop", { grid: current.gridName || current.grid }),
    url: `${API}patrols/{patrol}/stop`,
    body: { json: { ended_at: new Date().toISOString() } },
    patrolKey: current.key,
    meta: { patrolKey: current.key },
  });
}

async function finished(data, key) {
  const current = state();
  if (!current || current.key !== key) {
    return;
  }
  localStorage.setItem(LAST, JSON.stringify({ ...data, gridName: current.gridName }));
  const rows = await points(key);
  await store.transact(["points"], "readwrite", async (tx) => {
    for (const p of rows) {
      await store.done(tx.objectStore("points").delete([p.patrol, p.seq]));
    }
  });
  save(null);
  events.dispatchEvent(new CustomEvent("stopped", { detail: data }));
}

outbox.events.addEventListener("sent", (event) => {
  const { item, data } = event.detail;
  const current = state();
  if (!current) {
    return;
  }
  if (item.kind === "patrol_start" && item.key === current.key && data) {
    current.id = data.id;
    save(current);
  } else if (item.kind === "patrol_stop" && item.meta && item.meta.patrolKey === current.key) {
    finished(data, current.key);
  }
});

/** On every screen: carry on tracking a running patrol, or finish one whose stop was sent. */
export async function resume() {
  const current = state();
  if (!current) {
    return;
  }
  if (!current.stopping) {
    begin();
    return;
  }
  const answer = current.stopKey ? await outbox.result(current.stopKey) : null;
  if (answer) {
    finished(answer.data, current.key);
  }
}
