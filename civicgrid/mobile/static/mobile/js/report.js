/*
 * 上报 and 自行处置: a new case from the grid worker (channel grid_worker), with photos from the
 * camera, the phone's position (WGS-84, shown with its accuracy; a tap on the map puts the point
 * elsewhere) and a class picked from suggestions made as they type. Resolving on the spot is the
 * same report with a self-resolvable class, photos before and after, and self_resolve=true.
 *
 * The report is queued with its photos and sent by the outbox; the form's draft is kept as it
 * is typed and cleared only once the report is safely in the queue.
 */

import { fill, getJSON, h, pageUrl, say, t } from "./core.js";
import { keepDraft } from "./drafts.js";
import * as geo from "./geo.js";
import { drawGrids, latLng, makeMap } from "./mapview.js";
import * as outbox from "./outbox.js";
import { PhotoField } from "./photos.js";
import "./shell.js";

const form = document.getElementById("m-report");
const resolving = form.dataset.selfResolve === "1";
const kind = resolving ? "resolve" : "report";
const status = document.getElementById("m-form-status");
const positionEl = document.getElementById("m-position");
const select = document.getElementById("m-class");
const chips = document.getElementById("m-suggestions");
const SUGGEST_DELAY_MS = 400;
const SENT = `civicgrid.sent.${kind}`; // this screen's last reports, shown with their fate
const SENT_KEPT = 10;
const sent = new Set(JSON.parse(localStorage.getItem(SENT) || "[]"));

const draft = keepDraft(form, kind);
const fields = Object.fromEntries(
  Array.from(form.querySelectorAll("input[type=file]")).map((input) => [input.name, new PhotoField(input, `${kind}-${input.name}`)]),
);
let selfResolvable = null; // codes, once the classes are in

/* --- the class picker ------------------------------------------------------------------------ */

async function loadClasses() {
  let result;
  try {
    result = await getJSON("/api/v1/cases/classes");
  } catch (error) {
    return;
  }
  if (!result.ok) {
    return;
  }
  const majors = result.data.filter((c) => !c.major);
  const minors = result.data.filter((c) => c.major && (!resolving || c.self_resolvable));
  selfResolvable = new Set(result.data.filter((c) => c.self_resolvable).map((c) => c.code));
  for (const major of majors) {
    const members = minors.filter((c) => c.major === major.code);
    if (members.length) {
      select.append(
        h("optgroup", { label: major.name }, members.map((c) => h("option", { value: c.code }, `${c.name} ${c.code}`))),
      );
    }
  }
  // The draft's class could not be put back before its option existed.
  if (draft.values.case_class) {
    select.value = draft.values.case_class;
  }
}

let suggestTimer = null;
let suggestedFor = "";

function text() {
  return [form.elements.title.value, form.elements.description.value].map((v) => v.trim()).filter(Boolean).join(" ");
}

async function suggest() {
  const words = text();
  if (!words || words === suggestedFor) {
    return;
  }
  suggestedFor = words;
  let result;
  try {
    result = await getJSON(`/api/v1/cases/classes/suggest?text=${encodeURIComponent(words.slice(0, 2000))}`);
  } catch (error) {
    return;
  }
  if (!result.ok || words !== suggestedFor) {
    return;
  }
  const found = result.data.filter((s) => !resolving || !selfResolvable || selfResolvable.has(s.code)).slice(0, 5);
  chips.dataset.count = String(found.length);
  fill(
    chips,
    found.map((s) =>
      h(
        "button",
        {
          type: "button",
          class: select.value === s.code ? "m-chip chosen" : "m-chip",
          dataset: { code: s.code },
          onclick: () => {
            select.value = s.code;
            draft.save();
            for (const chip of chips.children) {
              chip.classList.toggle("chosen", chip.dataset.code === s.code);
            }
          },
        },
        s.name,
      ),
    ),
  );
}

for (const name of ["title", "description"]) {
  form.elements[name].addEventListener("input", () => {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(suggest, SUGGEST_DELAY_MS);
  });
}

/* --- the position ---------------------------------------------------------------------------- */

const map = makeMap(document.getElementById("m-map"));
let marker = null;
let manual = false;

function place(lon, lat, crs) {
  form.elements.lon.value = String(lon);
  form.elements.lat.value = String(lat);
  form.elements.crs.value = crs;
  if (map) {
    const at = crs === "wgs84" ? latLng(lon, lat) : L.latLng(lat, lon);
    if (marker) {
      marker.setLatLng(at);
    } else {
      marker = L.circleMarker(at, { radius: 9, color: "#fff", weight: 3, fillColor: "#ff5a1f", fillOpacity: 1 }).addTo(map);
      map.setView(at, 17);
    }
  }
}

geo.follow((fix, error) => {
  if (manual) {
    return;
  }
  if (fix) {
    place(fix.lon, fix.lat, "wgs84");
    positionEl.dataset.state = "ok";
    positionEl.textContent = t("positionAccuracy", { accuracy: Math.round(fix.accuracy) });
  } else if (error) {
    positionEl.dataset.state = "denied";
    positionEl.textContent = t("positionTapMap");
  }
});

if (map) {
  map.on("click", (event) => {
    manual = true;
    // The map is drawn in its tiles' CRS, so the tapped point is in it too and says so.
    place(event.latlng.lng, event.latlng.lat, geo.mapCrs);
    positionEl.dataset.state = "manual";
    positionEl.textContent = t("positionOnMap");
  });
  getJSON("/api/v1/patrol/mine")
    .then((result) => {
      if (result.ok) {
        drawGrids(map, result.data.grids || []);
        if (marker) {
          map.setView(marker.getLatLng(), 17);
        }
      }
    })
    .catch(() => {});
}

/* --- sending --------------------------------------------------------------------------------- */

function problems() {
  if (!text()) {
    return t("textRequired");
  }
  if (!form.elements.lon.value) {
    return t("positionRequired");
  }
  if (resolving) {
    if (!select.value) {
      return t("classRequired");
    }
    if (!fields.before.photos.length || !fields.after.photos.length) {
      return t("beforeAfterRequired");
    }
  }
  return "";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (form.dataset.busy) {
    say(status, t("photosBusy"), "info");
    return;
  }
  const wrong = problems();
  if (wrong) {
    say(status, wrong, "error");
    return;
  }
  await Promise.all(Object.values(fields).map((f) => f.ready));
  const e = form.elements;
  const title = e.title.value.trim() || e.description.value.trim().slice(0, 30);
  const item = await outbox.enqueue({
    kind,
    title,
    url: "/api/v1/cases/",
    body: {
      form: [
        ["channel", "grid_worker"],
        ["title", e.title.value.trim()],
        ["description", e.description.value.trim()],
        ["lon", e.lon.value],
        ["lat", e.lat.value],
        ["crs", e.crs.value],
        ["case_class", select.value],
        ["self_resolve", resolving ? "true" : "false"],
        ["note", e.note ? e.note.value.trim() : ""],
      ],
      files: Object.entries(fields).flatMap(([name, f]) => f.files(name)),
    },
    meta: { photos: Object.values(fields).reduce((n, f) => n + f.photos.length, 0) },
  });
  // Safely queued: only now is the draft let go.
  const { lon, lat, crs } = { lon: e.lon.value, lat: e.lat.value, crs: e.crs.value };
  draft.clear();
  form.reset();
  await Promise.all(Object.values(fields).map((f) => f.clear()));
  e.lon.value = lon;
  e.lat.value = lat;
  e.crs.value = crs;
  fill(chips);
  suggestedFor = "";
  say(status, navigator.onLine ? t("sending") : t("queuedOffline"), "info");
  sent.add(item.key);
  localStorage.setItem(SENT, JSON.stringify(Array.from(sent).slice(-SENT_KEPT)));
  showSent();
});

/* --- what this screen sent ------------------------------------------------------------------- */

async function showSent() {
  if (!sent.size) {
    return;
  }
  const waiting = new Map((await outbox.items()).map((item) => [item.key, item]));
  const rows = [];
  for (const key of sent) {
    const item = waiting.get(key);
    const answer = item ? null : await outbox.result(key);
    if (!item && !answer) {
      continue; // discarded from the queue, or sent long ago
    }
    let state = "pending";
    let line = t("stateWaiting");
    if (item && item.state === "conflict") {
      state = "conflict";
      line = item.error.message || t("conflict");
    } else if (answer && answer.data && answer.data.case) {
      state = "sent";
      line = t("reportArrived", { number: answer.data.case.number });
    }
    const title = item ? item.title : answer ? answer.title : "";
    rows.push(
      h(
        "li",
        { dataset: { key, state } },
        h("strong", {}, title),
        h("span", { class: "m-meta" }, line),
        state === "sent" ? h("a", { class: "m-link", href: pageUrl("case", { number: answer.data.case.number }) }, t("open")) : null,
        state === "conflict" ? h("a", { class: "m-link", href: pageUrl("outbox") }, t("openQueue")) : null,
      ),
    );
  }
  document.getElementById("m-sent").hidden = false;
  fill(document.getElementById("m-sent-list"), rows.reverse());
  if (rows.length && rows[0].dataset.state !== "pending") {
    say(status, "", ""); // the latest one has its answer in the list
  }
}

outbox.events.addEventListener("change", showSent);

if (draft.restored) {
  say(status, t("draftRestored"), "info");
}
loadClasses();
showSent();
