/*
 * 发送队列: what waits on this phone to be sent, in order, and what the server refused. A conflict
 * keeps the server's own message; the worker retries it (a move whose case moved on can be sent
 * again against the case as it is now, if the move is still possible) or discards it.
 */

import { config, fill, formatTime, getJSON, h, hasLabel, pageUrl, t } from "./core.js";
import * as outbox from "./outbox.js";
import "./shell.js";
import * as track from "./track.js";

const list = document.getElementById("m-queue-list");
const summary = document.getElementById("m-queue-summary");
let sending = null;


function stateOf(item) {
  if (item.state === "conflict") {
    return "conflict";
  }
  if (item.error && (item.error.status === 401 || item.error.status === 403)) {
    return "auth";
  }
  return item.id === sending ? "sending" : "pending";
}

function line(item, state) {
  if (state === "conflict") {
    const local = `error_${item.error.code}`;
    return item.error.message || (hasLabel(local) ? t(local) : t("conflict"));
  }
  if (state === "auth") {
    return t("signInAgain");
  }
  if (state === "sending") {
    return t("stateSending");
  }
  if (!navigator.onLine || (item.error && item.error.code === "network")) {
    return item.nextAt > Date.now() ? t("stateRetryAt", { time: formatTime(new Date(item.nextAt)) }) : t("stateOffline");
  }
  if (item.error) {
    return t("stateServerError", { status: item.error.status, time: formatTime(new Date(item.nextAt)) });
  }
  return t("stateWaiting");
}

/** A button that asks for a second tap before it acts (no dialogs: they block the page). */
function twoTap(label, again, action, className = "m-button secondary") {
  const button = h("button", { type: "button", class: className }, label);
  let armed = null;
  button.addEventListener("click", () => {
    if (armed) {
      clearTimeout(armed);
      action();
      return;
    }
    button.textContent = again;
    button.dataset.armed = "1";
    armed = setTimeout(() => {
      armed = null;
      button.textContent = label;
      delete button.dataset.armed;
    }, 4000);
  });
  return button;
}

async function retryMove(item, note) {
  // The case moved on since the worker saw it: send the move again only if it is still possible.
  const number = item.meta.number;
  let result;
  try {
    result = await getJSON(`/api/v1/cases/${encodeURIComponent(number)}`);
  } catch (error) {
    result = null;
  }
  if (!result || !result.ok || result.saved) {
    note.textContent = t("needConnection");
    return;
  }
  const found = result.data;
  if (!(found.moves || []).some((m) => m.action === item.meta.action)) {
    note.textContent = t("moveNoLongerPossible", { state: found.state_label });
    return;
  }
  await outbox.retry(item.id, (changed) => {
    changed.body.form = changed.body.form.map(([name, value]) => (name === "version" ? [name, found.version] : [name, value]));
    changed.meta.version = found.version;
  });
}

function actions(item, state) {
  const note = h("span", { class: "m-meta", role: "status" });
  const buttons = [];
  if (state === "conflict") {
    if (item.kind === "move" && item.error.code === "stale_version") {
      buttons.push(h("button", { type: "button", class: "m-button", dataset: { action: "retry" }, onclick: () => retryMove(item, note) }, t("retryWithCurrent")));
      buttons.push(h("a", { class: "m-button secondary", href: pageUrl("case", { number: item.meta.number }) }, t("openCase")));
    } else if (item.kind === "patrol_start" && item.error.code === "patrol_active" && item.error.detail && item.error.detail.id) {
      buttons.push(h("button", { type: "button", class: "m-button", onclick: () => track.takeOver(item.error.detail.id, item.key) }, t("continuePatrol")));
    } else {
      buttons.push(h("button", { type: "button", class: "m-button", dataset: { action: "retry" }, onclick: () => outbox.retry(item.id) }, t("retry")));
    }
  } else if (state === "auth") {
    const next = encodeURIComponent(pageUrl("outbox"));
    buttons.push(h("a", { class: "m-button", href: `${config.loginUrl}?next=${next}` }, t("signIn")));
  }
  const discard = twoTap(t("discard"), t("discardSure"), () => outbox.discard(item.id), "m-button secondary warn");
  discard.dataset.action = "discard";
  buttons.push(discard);
  return h("div", { class: "m-actions" }, buttons, note);
}

async function render() {
  const items = await outbox.items();
  list.dataset.count = String(items.length);
  summary.dataset.count = String(items.length);
  const conflicts = items.filter((item) => item.state === "conflict").length;
  summary.textContent = items.length ? t("queueSummary", { n: items.length, conflicts }) : t("queueEmpty");
  fill(
    list,
    items.map((item) => {
      const state = stateOf(item);
      const files = (item.body && item.body.files) || [];
      return h(
        "li",
        { class: `m-queue-item ${state}`, dataset: { key: item.key, kind: item.kind, state, attempts: item.attempts, code: item.error ? item.error.code : null } },
        h("strong", {}, item.title || outbox.kindLabel(item.kind)),
        h(
          "span",
          { class: "m-meta" },
          [outbox.kindLabel(item.kind), formatTime(item.createdAt), files.length ? t("photosN", { n: files.length }) : ""]
            .filter(Boolean)
            .join(" · "),
        ),
        h("span", { class: `m-queue-state ${state}`, dataset: { role: "state" } }, line(item, state)),
        actions(item, state),
      );
    }),
  );
  const sent = await outbox.recentResults(10);
  fill(
    document.getElementById("m-sent-list"),
    sent.length
      ? sent.map((answer) => {
          const data = answer.data || {};
          const number = (data.case && data.case.number) || data.number;
          return h(
            "li",
            { dataset: { key: answer.key, kind: answer.kind } },
            h("strong", {}, answer.title || outbox.kindLabel(answer.kind)),
            h("span", { class: "m-meta" }, `${formatTime(answer.at)}${answer.replayed ? ` · ${t("replayed")}` : ""}`),
            number ? h("a", { class: "m-link", href: pageUrl("case", { number }) }, number) : null,
          );
        })
      : h("li", { class: "m-muted" }, t("nothingSent")),
  );
}

outbox.events.addEventListener("change", render);
outbox.events.addEventListener("sending", (event) => {
  sending = event.detail.item.id;
  render();
});
outbox.events.addEventListener("sent", () => {
  sending = null;
});
window.addEventListener("online", render);
window.addEventListener("offline", render);
document.getElementById("m-send-now").addEventListener("click", () => outbox.sendNow());
render();
