/*
 * 待办: the cases to verify (核实) and to check (核查) in my grids, and my inspection tasks.
 * Each case is read once in the background while online, so that it opens in a basement too
 * (the service worker keeps the last copy of every API read).
 */

import { fill, formatTime, getJSON, h, pageUrl, problem, say, t } from "./core.js";
import * as outbox from "./outbox.js";
import { notice } from "./shell.js";

const status = document.getElementById("m-status");
const PREFETCH = 20;

function caseRow(item, queued) {
  return h(
    "li",
    { dataset: { number: item.number, overdue: item.overdue ? "1" : "0" } },
    h(
      "a",
      { class: "m-row-link", href: pageUrl("case", { number: item.number }) },
      h("strong", {}, item.title || item.number),
      h(
        "span",
        { class: "m-meta" },
        item.number,
        " · ",
        item.grid ? item.grid.name : "",
        item.case_class_name ? ` · ${item.case_class_name}` : "",
      ),
      h(
        "span",
        { class: item.overdue ? "m-deadline overdue" : "m-deadline" },
        item.stage_deadline ? t("dueBy", { time: formatTime(item.stage_deadline) }) : "",
        item.overdue ? ` · ${t("overdue")}` : "",
      ),
      queued ? h("span", { class: "m-tag" }, t("moveQueued")) : null,
    ),
  );
}

async function bucket(key, queued) {
  const section = document.getElementById(`m-bucket-${key}`);
  const list = section.querySelector("[data-role=items]");
  const result = await getJSON(`/api/v1/cases/inbox/${key}?limit=50`);
  if (!result.ok) {
    section.querySelector("[data-role=count]").textContent = "";
    fill(list, h("li", { class: "m-muted" }, problem(result)));
    return { saved: result.saved, items: [] };
  }
  const items = result.data.items;
  section.querySelector("[data-role=count]").textContent = String(result.data.count);
  fill(list, items.length ? items.map((item) => caseRow(item, queued.has(item.number))) : h("li", { class: "m-muted" }, t("nothingToDo")));
  return { saved: result.saved, items };
}

async function tasks() {
  const section = document.getElementById("m-tasks");
  const list = section.querySelector("[data-role=items]");
  let result;
  try {
    result = await getJSON("/api/v1/enforcement/tasks/mine");
  } catch (error) {
    result = null;
  }
  if (!result || !result.ok) {
    section.querySelector("[data-role=count]").textContent = "";
    fill(list, h("li", { class: "m-muted" }, problem(result)));
    return;
  }
  const open = result.data;
  section.querySelector("[data-role=count]").textContent = String(open.length);
  fill(
    list,
    open.length
      ? open.map((task) =>
          h(
            "li",
            { dataset: { task: task.id } },
            h(
              "a",
              { class: "m-row-link", href: pageUrl("inspect", { task: task.id }) },
              h("strong", {}, task.item.name),
              h("span", { class: "m-meta" }, task.item.code, " · ", task.grid.name),
              task.due ? h("span", { class: "m-deadline" }, t("dueBy", { time: task.due })) : null,
            ),
          ),
        )
      : h("li", { class: "m-muted" }, t("nothingToDo")),
  );
}

async function load() {
  const queued = new Set(
    (await outbox.items()).filter((item) => item.kind === "move").map((item) => item.meta.number),
  );
  let found = [];
  try {
    const answers = await Promise.all([bucket("verify", queued), bucket("check", queued)]);
    if (answers.some((a) => a.saved)) {
      notice(t("savedCopy"));
    }
    found = answers.flatMap((a) => a.items);
  } catch (error) {
    say(status, problem(null), "error");
  }
  await tasks();
  if (navigator.onLine) {
    // Read ahead, one at a time, so the cases open offline later.
    for (const item of found.slice(0, PREFETCH)) {
      await fetch(`/api/v1/cases/${encodeURIComponent(item.number)}`, { credentials: "same-origin" }).catch(() => null);
    }
  }
}

load();
