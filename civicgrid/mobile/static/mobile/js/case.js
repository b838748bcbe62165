/*
 * One case from the to-do list: what it is, where, by when, and the worker's move on it —
 * verify (核实) a report, or check (核查) a department's result, passed or failed — with a note
 * and photos. The move goes through the outbox with the case version the worker saw, so a case
 * that moved on meanwhile comes back as a conflict (409 stale_version), never silently.
 */

import { fill, formatDistance, formatTime, getJSON, h, param, problem, say, t } from "./core.js";
import { keepDraft } from "./drafts.js";
import * as geo from "./geo.js";
import * as outbox from "./outbox.js";
import { PhotoField } from "./photos.js";
import { notice } from "./shell.js";

const MOVES = ["verify", "check_pass", "check_fail"];
const NOTE_REQUIRED = new Set(["check_fail"]);

const number = param("number");
const article = document.getElementById("m-case");
const status = document.getElementById("m-status");
const form = document.getElementById("m-move");
const moveStatus = document.getElementById("m-move-status");
const positionEl = form.querySelector("[data-role=position]");
const field = (name) => article.querySelector(`[data-field=${name}]`);
let current = null;
let fix = null;

const draft = keepDraft(form, `move-${number}`);
const photos = new PhotoField(form.querySelector("input[name=photos]"), `move-${number}-photos`);

function render(item) {
  current = item;
  fill(field("title"), item.title);
  fill(field("number"), item.number);
  fill(field("state"), item.state_label);
  field("state").dataset.state = item.state;
  fill(field("class"), item.case_class_name || t("unclassified"));
  fill(field("place"), [item.address, item.grid && item.grid.name].filter(Boolean).join(" · "));
  fill(field("deadline"), item.stage_deadline ? formatTime(item.stage_deadline) : "—");
  fill(field("description"), item.description || "");
  fill(
    field("photos"),
    (item.attachments || [])
      .filter((a) => a.kind === "image")
      .map((a) => h("li", {}, h("a", { href: a.url }, h("img", { src: a.url, alt: a.purpose, loading: "lazy" })))),
  );
  fill(
    field("events"),
    (item.events || []).map((e) =>
      h("li", {}, h("time", {}, formatTime(e.at)), " ", e.action_label, e.actor ? ` · ${e.actor}` : "", e.note ? `: ${e.note}` : ""),
    ),
  );
  article.dataset.state = "ready";
  article.dataset.version = String(item.version);
  distance();
  showMoves();
}

function distance() {
  if (current && fix) {
    fill(field("distance"), formatDistance(geo.distance(fix, { lon: current.lon, lat: current.lat })));
  }
}

async function showMoves() {
  const possible = (current.moves || []).filter((m) => MOVES.includes(m.action));
  const waiting = (await outbox.items()).some((item) => item.kind === "move" && item.meta.number === number && item.state !== "conflict");
  document.getElementById("m-move-queued").hidden = !waiting;
  form.hidden = !possible.length && !waiting;
  fill(
    document.getElementById("m-move-buttons"),
    possible.map((move) =>
      h(
        "button",
        {
          type: "button",
          class: move.action === "check_fail" ? "m-button warn" : "m-button",
          dataset: { action: move.action },
          disabled: waiting,
          onclick: () => submit(move),
        },
        move.label,
      ),
    ),
  );
}

async function submit(move) {
  const note = form.elements.note.value.trim();
  if (NOTE_REQUIRED.has(move.action) && !note) {
    say(moveStatus, t("noteRequired"), "error");
    form.elements.note.focus();
    return;
  }
  await photos.ready;
  const fields = [
    ["version", current.version],
    ["note", note],
  ];
  if (fix) {
    fields.push(["lon", fix.lon], ["lat", fix.lat]);
  }
  const item = await outbox.enqueue({
    kind: "move",
    title: `${move.label} · ${current.title}`,
    url: `/api/v1/cases/${encodeURIComponent(number)}/moves/${move.action}`,
    body: { form: fields, files: photos.files("photos") },
    meta: { number, action: move.action, version: current.version, label: move.label },
  });
  draft.clear();
  form.reset();
  await photos.clear();
  say(moveStatus, navigator.onLine ? t("sending") : t("queuedOffline"), "info");
  watch(item.key);
  showMoves();
}

function watch(key) {
  const sent = async (event) => {
    if (event.detail.item.key !== key) {
      return;
    }
    stop();
    say(moveStatus, t("moveSent"), "ok");
    load();
  };
  const conflict = (event) => {
    if (event.detail.item.key !== key) {
      return;
    }
    stop();
    say(moveStatus, event.detail.error.message || t("conflict"), "error");
    showMoves();
  };
  const stop = () => {
    outbox.events.removeEventListener("sent", sent);
    outbox.events.removeEventListener("conflict", conflict);
  };
  outbox.events.addEventListener("sent", sent);
  outbox.events.addEventListener("conflict", conflict);
}

async function load() {
  if (!number) {
    say(status, t("noCaseChosen"), "error");
    article.hidden = true;
    return;
  }
  let result;
  try {
    result = await getJSON(`/api/v1/cases/${encodeURIComponent(number)}`);
  } catch (error) {
    result = null;
  }
  if (!result || !result.ok) {
    say(status, problem(result), "error");
    article.dataset.state = "failed";
    return;
  }
  notice(result.saved ? t("savedCopy") : "");
  render(result.data);
}

geo.follow((position, error) => {
  if (position) {
    fix = position;
    positionEl.dataset.state = "ok";
    positionEl.textContent = t("positionAccuracy", { accuracy: Math.round(position.accuracy) });
    distance();
  } else if (error) {
    positionEl.dataset.state = "denied";
    positionEl.textContent = t("positionUnavailable");
  }
});
load();
