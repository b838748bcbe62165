/*
 * 执法检查: an item of the enforcement list checked on site, from an assigned task or chosen
 * from the list — each checkpoint passed, failed or not applicable, with a note, photos and the
 * position. A failed checkpoint raises a case in one step: ticked when sending, or with its
 * button once the inspection is in. Everything goes through the outbox.
 */

import { fill, getJSON, h, pageUrl, param, problem, say, t, uuid } from "./core.js";
import { keepDraft } from "./drafts.js";
import * as geo from "./geo.js";
import * as outbox from "./outbox.js";
import { PhotoField } from "./photos.js";
import { notice } from "./shell.js";

const API = "/api/v1/enforcement/";
const LAST = "civicgrid.inspection."; // + the checklist's name: the key of its last submission
const status = document.getElementById("m-status");
const form = document.getElementById("m-checklist");
const formStatus = document.getElementById("m-form-status");
const resultCard = document.getElementById("m-inspection-result");
let fix = null;
let checklist = null; // {name, item, grid, task}
let draft = null;
let photos = null;

async function read(url) {
  try {
    return await getJSON(url);
  } catch (error) {
    return null;
  }
}

/* --- choosing what to inspect ---------------------------------------------------------------- */

async function choose() {
  document.getElementById("m-choose").hidden = false;
  const [tasks, mine] = await Promise.all([read(`${API}tasks/mine`), read("/api/v1/patrol/mine")]);
  const list = document.getElementById("m-tasks");
  if (!tasks || !tasks.ok) {
    fill(list, h("li", { class: "m-muted" }, problem(tasks)));
  } else {
    fill(
      list,
      tasks.data.length
        ? tasks.data.map((task) =>
            h(
              "li",
              { dataset: { task: task.id } },
              h(
                "a",
                { class: "m-row-link", href: pageUrl("inspect", { task: task.id }) },
                h("strong", {}, task.item.name),
                h("span", { class: "m-meta" }, `${task.item.code} · ${task.grid.name}`),
                task.due ? h("span", { class: "m-deadline" }, t("dueBy", { time: task.due })) : null,
              ),
            ),
          )
        : h("li", { class: "m-muted" }, t("nothingToDo")),
    );
  }
  const grids = mine && mine.ok ? mine.data.grids || [] : [];
  fill(
    document.getElementById("m-search-grid"),
    grids.map((grid) => h("option", { value: grid.code }, `${grid.name} ${grid.code}`)),
  );
}

document.getElementById("m-search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const q = event.target.elements.q.value.trim();
  const grid = event.target.elements.grid.value;
  const found = await read(`${API}items?q=${encodeURIComponent(q)}`);
  const list = document.getElementById("m-items");
  if (!found || !found.ok) {
    fill(list, h("li", { class: "m-muted" }, problem(found)));
    return;
  }
  fill(
    list,
    found.data.length
      ? found.data.slice(0, 30).map((item) =>
          h(
            "li",
            { dataset: { item: item.code } },
            h(
              "a",
              { class: "m-row-link", href: pageUrl("inspect", { item: item.code, grid }) },
              h("strong", {}, item.name),
              h("span", { class: "m-meta" }, `${item.code} · ${item.department_name || ""}`),
            ),
          ),
        )
      : h("li", { class: "m-muted" }, t("noMatches")),
  );
});

/* --- the checklist --------------------------------------------------------------------------- */

const RESULTS = [
  ["pass", "resultPass"],
  ["fail", "resultFail"],
  ["na", "resultNa"],
];

function checkpoint(point) {
  const raise = h("label", { class: "m-check m-raise", hidden: true }, h("input", { type: "checkbox", name: `raise-${point.id}`, checked: true }), t("raiseCase"));
  const set = h(
    "fieldset",
    { class: "m-checkpoint", dataset: { checkpoint: point.id } },
    h("legend", {}, `${point.seq}. ${point.text}`),
    h(
      "div",
      { class: "m-segmented" },
      RESULTS.map(([value, label]) =>
        h("label", { class: `m-seg ${value}` }, h("input", { type: "radio", name: `result-${point.id}`, value }), h("span", {}, t(label))),
      ),
    ),
    h("input", { type: "text", name: `note-${point.id}`, maxlength: 500, placeholder: t("checkpointNote"), class: "m-input" }),
    raise,
  );
  set.addEventListener("change", () => {
    const chosen = set.querySelector("input[type=radio]:checked");
    set.dataset.result = chosen ? chosen.value : "";
    raise.hidden = !chosen || chosen.value !== "fail";
  });
  return set;
}

function open(item, grid, task) {
  const name = task ? `task-${task}` : `item-${item.code}-${grid.code}`;
  checklist = { name, item, grid, task };
  fill(form.querySelector("[data-field=item]"), `${item.name}`);
  fill(form.querySelector("[data-field=where]"), `${item.code} · ${grid.name || grid.code}`);
  fill(form.querySelector("[data-field=legal]"), item.legal_basis || "");
  fill(document.getElementById("m-checkpoints"), (item.checkpoints || []).map(checkpoint));
  draft = keepDraft(form, `inspection-${name}`);
  for (const set of form.querySelectorAll(".m-checkpoint")) {
    set.dispatchEvent(new Event("change"));
  }
  photos = new PhotoField(form.querySelector("input[name=photos]"), `inspection-${name}-photos`);
  form.hidden = false;
  const last = localStorage.getItem(LAST + name);
  if (last) {
    showResult(last);
  }
}

function answers() {
  return Array.from(form.querySelectorAll(".m-checkpoint")).map((set) => {
    const id = Number(set.dataset.checkpoint);
    const chosen = set.querySelector("input[type=radio]:checked");
    return {
      checkpoint: id,
      result: chosen ? chosen.value : "",
      note: form.elements[`note-${id}`].value.trim(),
      raise_case: Boolean(chosen && chosen.value === "fail" && form.elements[`raise-${id}`].checked),
    };
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const given = answers();
  const missing = given.filter((a) => !a.result);
  if (missing.length) {
    say(formStatus, t("answerEveryCheckpoint", { n: missing.length }), "error");
    form.querySelector(`[data-checkpoint="${missing[0].checkpoint}"]`).scrollIntoView({ block: "center" });
    return;
  }
  if (!fix) {
    say(formStatus, t("positionRequired"), "error");
    return;
  }
  await photos.ready;
  const key = uuid();
  const fields = [
    ["item", checklist.item.code],
    ["grid", checklist.grid.code],
    ["answers", JSON.stringify(given)],
    ["note", form.elements.note.value.trim()],
    ["client_key", key],
    // When it was inspected, not when a queue kept offline gets it to the server.
    ["at", new Date().toISOString()],
  ];
  if (checklist.task) {
    fields.push(["task", checklist.task]);
  }
  fields.push(["lon", fix.lon], ["lat", fix.lat], ["accuracy", fix.accuracy]);
  const texts = Object.fromEntries((checklist.item.checkpoints || []).map((p) => [p.id, p.text]));
  await outbox.enqueue({
    key,
    kind: "inspection",
    title: t("queueInspection", { item: checklist.item.name }),
    url: `${API}inspections`,
    body: { form: fields, files: photos.files("photos") },
    meta: { item: checklist.item.code, grid: checklist.grid.code, task: checklist.task, answers: given, texts },
  });
  localStorage.setItem(LAST + checklist.name, key);
  draft.clear();
  form.reset();
  await photos.clear();
  for (const set of form.querySelectorAll(".m-checkpoint")) {
    set.dispatchEvent(new Event("change"));
  }
  say(formStatus, navigator.onLine ? t("sending") : t("queuedOffline"), "info");
  showResult(key);
});

/* --- the result, and raising a case from a failed checkpoint ---------------------------------- */

async function showResult(key) {
  const waiting = (await outbox.items()).find((item) => item.key === key);
  const answer = waiting ? null : await outbox.result(key);
  if (!waiting && !answer) {
    return;
  }
  resultCard.hidden = false;
  resultCard.dataset.key = key;
  const summary = resultCard.querySelector("[data-field=summary]");
  const list = resultCard.querySelector("[data-field=cases]");
  if (waiting) {
    resultCard.dataset.state = waiting.state;
    fill(summary, waiting.state === "conflict" ? waiting.error.message || t("conflict") : t("stateWaiting"));
    fill(list);
    return;
  }
  say(formStatus, "", "");
  const data = answer.data || {};
  resultCard.dataset.state = "sent";
  resultCard.dataset.inspection = String(data.id);
  fill(summary, t("inspectionSent", { failed: data.failed ?? 0, cases: (data.cases || []).length }));
  const raised = await raisedLater(data.id);
  const failed = (answer.meta.answers || []).filter((a) => a.result === "fail");
  const rows = (data.cases || []).map((number) =>
    h("li", { dataset: { number } }, h("a", { class: "m-link", href: pageUrl("case", { number }) }, t("caseRaised", { number }))),
  );
  for (const a of failed.filter((f) => !f.raise_case)) {
    const text = answer.meta.texts[a.checkpoint] || `#${a.checkpoint}`;
    const later = raised.get(a.checkpoint);
    rows.push(
      h(
        "li",
        { dataset: { checkpoint: a.checkpoint, state: later ? later.state : "open" } },
        h("span", {}, text),
        later
          ? h("span", { class: "m-meta" }, later.number ? t("caseRaised", { number: later.number }) : later.text)
          : h(
              "button",
              { type: "button", class: "m-button secondary", onclick: () => raise(data.id, a.checkpoint, text, key) },
              t("raiseCase"),
            ),
      ),
    );
  }
  fill(list, rows);
}

/** Cases raised after the inspection, by checkpoint: sent ones, and ones still queued. */
async function raisedLater(inspection) {
  const found = new Map();
  for (const item of await outbox.items()) {
    if (item.kind === "inspection_case" && item.meta.inspection === inspection) {
      const conflict = item.state === "conflict";
      found.set(item.meta.checkpoint, { state: conflict ? "conflict" : "pending", text: conflict ? item.error.message : t("stateWaiting") });
    }
  }
  for (const answer of await outbox.recentResults(200)) {
    if (answer.kind === "inspection_case" && answer.meta.inspection === inspection) {
      found.set(answer.meta.checkpoint, { state: "sent", number: answer.data && answer.data.number });
    }
  }
  return found;
}

async function raise(inspection, checkpointId, text, key) {
  await outbox.enqueue({
    kind: "inspection_case",
    title: t("queueRaiseCase", { checkpoint: text }),
    url: `${API}inspections/${inspection}/cases`,
    body: { json: { checkpoint: checkpointId } },
    meta: { inspection, checkpoint: checkpointId },
  });
  showResult(key);
}

outbox.events.addEventListener("change", () => {
  if (resultCard.dataset.key) {
    showResult(resultCard.dataset.key);
  }
});

/* --- start ----------------------------------------------------------------------------------- */

async function start() {
  const task = param("task");
  const itemCode = param("item");
  if (task) {
    const tasks = await read(`${API}tasks/mine`);
    if (!tasks || !tasks.ok) {
      say(status, problem(tasks), "error");
      return;
    }
    notice(tasks.saved ? t("savedCopy") : "");
    const found = tasks.data.find((x) => String(x.id) === task);
    if (!found) {
      say(status, t("taskGone"), "error");
      choose();
      return;
    }
    open(found.item, found.grid, found.id);
  } else if (itemCode) {
    const [items, mine] = await Promise.all([read(`${API}items?q=${encodeURIComponent(itemCode)}`), read("/api/v1/patrol/mine")]);
    const item = items && items.ok ? items.data.find((x) => x.code === itemCode) : null;
    const gridCode = param("grid");
    const grid = (mine && mine.ok ? mine.data.grids : []).find((g) => g.code === gridCode) || { code: gridCode, name: gridCode };
    if (!item || !gridCode) {
      say(status, item ? t("chooseGrid") : problem(items), "error");
      choose();
      return;
    }
    open(item, grid, null);
  } else {
    choose();
  }
}

geo.follow((position, error) => {
  const el = form.querySelector("[data-role=position]");
  if (position) {
    fix = position;
    el.dataset.state = "ok";
    el.textContent = t("positionAccuracy", { accuracy: Math.round(position.accuracy) });
  } else if (error) {
    el.dataset.state = "denied";
    el.textContent = t("positionUnavailable");
  }
});
start();
