/*
 * 巡查: start and stop a patrol, the live track on the map, check-ins at the key places with
 * their distance, and the stop's result with the grid's coverage. The tracking itself is in
 * track.js (it carries on on the other screens); this screen shows it.
 */

import {
  fill,
  formatDistance,
  formatDuration,
  formatTime,
  getJSON,
  h,
  percent,
  problem,
  say,
  t,
  uuid,
} from "./core.js";
import * as geo from "./geo.js";
import { Me, Track, drawGrids, drawPlaces, drawShape, makeMap } from "./mapview.js";
import * as outbox from "./outbox.js";
import { notice } from "./shell.js";
import * as track from "./track.js";

const panel = document.getElementById("m-patrol");
const status = document.getElementById("m-status");
const positionEl = document.getElementById("m-position");
const gridSelect = document.getElementById("m-grid");
const map = makeMap(document.getElementById("m-map"));
const me = map ? new Me(map) : null;
const line = new Track(map);
let mine = null;
let fix = null;
let clock = null;
let walked = 0;
let count = 0;
let previous = null;
let shapes = [];
const checkins = new Map(); // place id → {key, state, text, distance}

function setState(name) {
  panel.dataset.state = name;
  for (const part of panel.querySelectorAll("[data-when]")) {
    part.hidden = part.dataset.when !== name;
  }
}

function gridName(code) {
  const grid = mine && (mine.grids || []).find((g) => g.code === code);
  return grid ? grid.name : code;
}

/* --- the running patrol ---------------------------------------------------------------------- */

function tick(startedAt) {
  const seconds = (Date.now() - new Date(startedAt).getTime()) / 1000;
  document.getElementById("m-elapsed").textContent = formatDuration(seconds);
}

async function showTrack(current) {
  const rows = await track.points(current.key);
  line.set(rows);
  count = rows.length;
  walked = 0;
  previous = null;
  for (const p of rows) {
    if (previous) {
      walked += geo.distance(previous, p);
    }
    previous = p;
  }
  stats();
}

function stats(point = null) {
  document.getElementById("m-points").textContent = String(count);
  document.getElementById("m-walked").textContent = formatDistance(walked);
  if (point && point.accuracy !== null && point.accuracy !== undefined) {
    document.getElementById("m-accuracy").textContent = formatDistance(point.accuracy);
  }
}

track.events.addEventListener("point", (event) => {
  const point = event.detail;
  line.add(point);
  count += 1;
  if (previous) {
    walked += geo.distance(previous, point);
  }
  previous = point;
  stats(point);
});

track.events.addEventListener("stopped", (event) => {
  showResult(event.detail);
  load();
});

function showResult(result) {
  clearInterval(clock);
  setState("done");
  const field = (name) => panel.querySelector(`#m-result [data-field=${name}]`);
  const coverage = document.getElementById("m-coverage");
  coverage.textContent = percent(result.coverage);
  coverage.dataset.coverage = String(result.coverage ?? "");
  field("duration").textContent = formatDuration(result.duration_s);
  field("distance").textContent = formatDistance(result.distance_m);
  field("points").textContent = String(result.points ?? "");
  field("flagged").textContent = String(result.flagged ?? "");
  for (const layer of shapes) {
    layer.remove();
  }
  line.set([]);
  shapes = [
    drawShape(map, result.covered, { color: "#2f9e44", weight: 1, fillColor: "#2f9e44", fillOpacity: 0.3 }),
    drawShape(map, result.track, { color: "#2f9e44", weight: 4 }),
  ].filter(Boolean);
  if (shapes.length && shapes[0].getBounds().isValid()) {
    map.fitBounds(shapes[0].getBounds(), { padding: [24, 24], maxZoom: 18 });
  }
}

async function view() {
  clearInterval(clock);
  const current = track.state();
  const last = track.lastResult();
  const refusal = current ? await track.startRefusal() : null;
  if (refusal) {
    document.getElementById("m-refused-text").textContent = refusal.message || t("conflict");
    const running = refusal.code === "patrol_active" && refusal.detail && refusal.detail.id;
    const takeOver = document.getElementById("m-take-over");
    takeOver.hidden = !running;
    takeOver.dataset.patrol = running ? String(refusal.detail.id) : "";
    setState("refused");
    showTrack(current);
  } else if (current && !current.stopping) {
    setState("active");
    tick(current.startedAt);
    clock = setInterval(() => tick(current.startedAt), 1000);
    showTrack(current);
  } else if (current) {
    setState("stopping");
  } else if (mine && mine.active_patrol) {
    const active = mine.active_patrol;
    document.getElementById("m-elsewhere-text").textContent = t("patrolStillRunning", {
      time: formatTime(active.started_at),
      grid: gridName(active.grid),
    });
    setState("elsewhere");
  } else if (last) {
    showResult(last);
  } else {
    setState(mine ? "idle" : "loading");
  }
}

document.getElementById("m-start").addEventListener("click", async () => {
  const code = gridSelect.value;
  if (!code) {
    return;
  }
  await track.start(code, gridName(code));
  view();
});

document.getElementById("m-stop").addEventListener("click", async () => {
  await track.stop();
  view();
});

document.getElementById("m-again").addEventListener("click", () => {
  localStorage.removeItem("civicgrid.patrol.last");
  for (const layer of shapes) {
    layer.remove();
  }
  shapes = [];
  view();
});

document.getElementById("m-abandon").addEventListener("click", async () => {
  await track.abandon();
  line.set([]);
  view();
});

document.getElementById("m-take-over").addEventListener("click", async (event) => {
  await track.takeOver(Number(event.currentTarget.dataset.patrol));
  view();
});

outbox.events.addEventListener("conflict", (event) => {
  const current = track.state();
  if (current && event.detail.item.key === current.key) {
    view(); // the start was refused
  }
});

document.getElementById("m-adopt").addEventListener("click", async () => {
  const active = mine.active_patrol;
  await track.adopt(active, gridName(active.grid));
  view();
});

/* --- check-ins ------------------------------------------------------------------------------- */

const rows = new Map(); // place id → its <li>, built once and then updated in place

function checkinRow(place) {
  const text = h("span", { class: "m-meta", dataset: { role: "distance" } }, place.kind_label || "");
  const answer = h("span", { class: "m-checkin-result", role: "status", dataset: { role: "answer" }, hidden: true });
  return h(
    "li",
    { dataset: { place: place.id } },
    h("div", { class: "m-checkin-place" }, h("strong", {}, place.name), text, answer),
    h("button", { type: "button", class: "m-button secondary", onclick: () => checkIn(place) }, t("checkIn")),
  );
}

/** The check-in list, nearest place first, each with its distance and its last answer. */
function checkinRows() {
  const list = document.getElementById("m-checkins");
  const places = (mine && mine.places) || [];
  if (!places.length) {
    fill(list, h("li", { class: "m-muted" }, t("noPlaces")));
    return;
  }
  const order = places
    .map((place) => ({ place, d: fix ? geo.distance(fix, place) : null }))
    .sort((a, b) => (a.d ?? 0) - (b.d ?? 0));
  for (const { place, d } of order) {
    let row = rows.get(place.id);
    if (!row) {
      row = checkinRow(place);
      rows.set(place.id, row);
    }
    const inside = d !== null && d <= place.radius_m;
    row.dataset.inside = d === null ? "" : inside ? "1" : "0";
    row.querySelector("button").className = inside ? "m-button" : "m-button secondary";
    row.querySelector("[data-role=distance]").textContent = [
      place.kind_label || "",
      d === null ? "" : t("distanceOfRadius", { distance: formatDistance(d), radius: formatDistance(place.radius_m) }),
    ]
      .filter(Boolean)
      .join(" · ");
    const last = checkins.get(place.id);
    const answer = row.querySelector("[data-role=answer]");
    if (last) {
      row.dataset.result = last.state;
      if (last.distance !== undefined && last.distance !== null) {
        row.dataset.distance = String(last.distance);
      }
      answer.className = `m-checkin-result ${last.state}`;
      answer.textContent = last.text;
      answer.hidden = false;
    }
  }
  // Reordered only when the order changed (moving a row under a finger would lose the tap).
  const wanted = order.map(({ place }) => rows.get(place.id));
  if (wanted.some((row, index) => list.children[index] !== row) || list.children.length !== wanted.length) {
    list.replaceChildren(...wanted);
  }
}

async function checkIn(place) {
  if (!fix) {
    say(status, t("positionRequired"), "error");
    return;
  }
  const current = track.state();
  const key = uuid();
  const body = { place: place.id, lon: fix.lon, lat: fix.lat, accuracy: fix.accuracy, at: fix.t, client_key: key };
  if (current && !current.stopping) {
    body.patrol = "{patrol}";
  }
  checkins.set(place.id, { key, state: "queued", text: navigator.onLine ? t("sending") : t("queuedOffline") });
  checkinRows();
  await outbox.enqueue({
    key,
    kind: "checkin",
    title: t("queueCheckin", { place: place.name }),
    url: "/api/v1/patrol/checkins",
    body: { json: body },
    patrolKey: body.patrol ? current.key : null,
    patrolOptional: true,
    meta: { place: place.id, name: place.name },
  });
}

function placeOf(key) {
  for (const [id, entry] of checkins) {
    if (entry.key === key) {
      return id;
    }
  }
  return null;
}

outbox.events.addEventListener("sent", (event) => {
  const { item, data } = event.detail;
  const id = item.kind === "checkin" ? placeOf(item.key) : null;
  if (id === null || !data) {
    return;
  }
  checkins.set(id, {
    key: item.key,
    state: data.accepted ? "accepted" : "refused",
    distance: Math.round(data.distance_m),
    text: t("checkinAccepted", { distance: formatDistance(data.distance_m) }),
  });
  checkinRows();
});

outbox.events.addEventListener("conflict", (event) => {
  const { item, error } = event.detail;
  const id = item.kind === "checkin" ? placeOf(item.key) : null;
  if (id === null) {
    return;
  }
  const detail = error.detail || {};
  const distance = detail.distance_m;
  const text =
    error.code === "outside_geofence" && distance !== undefined
      ? t("checkinOutside", { distance: formatDistance(distance), radius: formatDistance(detail.radius_m) })
      : error.message || t("conflict");
  checkins.set(id, { key: item.key, state: "refused", distance, text, code: error.code });
  checkinRows();
});

/* --- loading --------------------------------------------------------------------------------- */

let drawn = false;

async function load() {
  let result;
  try {
    result = await getJSON("/api/v1/patrol/mine");
  } catch (error) {
    result = null;
  }
  if (!result || !result.ok) {
    say(status, problem(result), "error");
    view();
    return;
  }
  notice(result.saved ? t("savedCopy") : "");
  mine = result.data;
  const current = track.state();
  if (current && mine.active_patrol && current.id === mine.active_patrol.id) {
    mine.active_patrol = null; // that one is ours, tracked here
  } else if (current && !current.id && mine.active_patrol) {
    mine.active_patrol = null; // ours, its start not answered yet
  }
  fill(
    gridSelect,
    (mine.grids || []).map((grid) => h("option", { value: grid.code }, `${grid.name} ${grid.code}`)),
  );
  document.getElementById("m-grid-field").hidden = (mine.grids || []).length < 2;
  if (map && !drawn) {
    drawn = true;
    drawGrids(map, mine.grids || []);
    drawPlaces(map, mine.places || []);
  }
  checkinRows();
  view();
}

geo.follow((position, error) => {
  if (position) {
    fix = position;
    me?.update(position);
    positionEl.dataset.state = "ok";
    positionEl.textContent = t("positionAccuracy", { accuracy: Math.round(position.accuracy) });
    checkinRows();
  } else if (error) {
    positionEl.dataset.state = "denied";
    positionEl.textContent = t("positionUnavailable");
  }
});

view();
load();
