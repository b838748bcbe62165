/*
 * 我的记录: my reports (rendered by the server), my patrols (from the patrol API) and what this
 * phone has sent lately (the outbox's answers). Logging out drops the pages and API answers the
 * service worker kept (they hold personal data); the outbox stays, to be sent after signing in.
 */

import { config, fill, formatDistance, formatDuration, formatTime, getJSON, h, pageUrl, percent, problem, t } from "./core.js";
import * as outbox from "./outbox.js";
import "./shell.js";


async function patrols() {
  const list = document.querySelector("#m-my-patrols [data-role=items]");
  let result;
  try {
    result = await getJSON(`/api/v1/patrol/patrols?worker=${encodeURIComponent(config.user.username)}`);
  } catch (error) {
    result = null;
  }
  if (!result || !result.ok) {
    fill(list, h("li", { class: "m-muted" }, problem(result)));
    return;
  }
  const rows = Array.isArray(result.data) ? result.data : result.data.items || [];
  fill(
    list,
    rows.length
      ? rows.slice(0, 30).map((p) =>
          h(
            "li",
            { dataset: { patrol: p.id, state: p.state } },
            h("strong", {}, formatTime(p.started_at)),
            h(
              "span",
              { class: "m-meta" },
              [
                p.grid_name || p.grid,
                p.duration_s ? formatDuration(p.duration_s) : "",
                p.distance_m ? formatDistance(p.distance_m) : "",
                p.coverage !== null && p.coverage !== undefined ? t("coverageShort", { share: percent(p.coverage) }) : "",
              ]
                .filter(Boolean)
                .join(" · "),
            ),
          ),
        )
      : h("li", { class: "m-muted" }, t("noPatrols")),
  );
}

function link(answer) {
  const data = answer.data || {};
  const number = (data.case && data.case.number) || data.number;
  return number ? h("a", { class: "m-link", href: pageUrl("case", { number }) }, number) : null;
}

async function sent() {
  const rows = await outbox.recentResults(20);
  fill(
    document.querySelector("#m-phone-sent [data-role=items]"),
    rows.length
      ? rows.map((answer) =>
          h(
            "li",
            { dataset: { kind: answer.kind } },
            h("strong", {}, answer.title || outbox.kindLabel(answer.kind)),
            h("span", { class: "m-meta" }, `${outbox.kindLabel(answer.kind)} · ${formatTime(answer.at)}`),
            link(answer),
          ),
        )
      : h("li", { class: "m-muted" }, t("nothingSent")),
  );
}

const logout = document.getElementById("m-logout");
outbox.items().then((items) => {
  document.getElementById("m-logout-warning").hidden = !items.length;
});
logout.addEventListener("submit", async (event) => {
  event.preventDefault();
  if ("caches" in window) {
    await Promise.all(["pages", "api"].map((name) => caches.delete(name)));
  }
  logout.submit();
});

patrols();
sent();
