/* 我的网格: my grids on the map with my position and the key places; the to-do count. */

import { fill, formatDistance, getJSON, h, problem, say, t } from "./core.js";
import * as geo from "./geo.js";
import { Me, drawGrids, drawPlaces, makeMap } from "./mapview.js";
import { notice } from "./shell.js";
import * as track from "./track.js";

const mapEl = document.getElementById("m-map");
const status = document.getElementById("m-status");
const positionEl = document.getElementById("m-position");
const map = makeMap(mapEl);
const me = map ? new Me(map) : null;
let places = [];

function showPlaces(fix) {
  const list = document.getElementById("m-places");
  const rows = places.map((place) => ({ place, d: fix ? geo.distance(fix, place) : null }));
  rows.sort((a, b) => (a.d ?? 0) - (b.d ?? 0));
  fill(
    list,
    rows.length
      ? rows.map(({ place, d }) =>
          h(
            "li",
            { dataset: { place: place.id } },
            h("strong", {}, place.name),
            h("span", { class: "m-muted" }, ` ${place.kind_label || ""}`),
            d === null ? null : h("span", { class: "m-distance" }, formatDistance(d)),
          ),
        )
      : h("li", { class: "m-muted" }, t("noPlaces")),
  );
}

function showPosition(fix, error) {
  if (fix) {
    positionEl.dataset.state = "ok";
    positionEl.textContent = t("positionAccuracy", { accuracy: Math.round(fix.accuracy) });
    me?.update(fix);
    showPlaces(fix);
  } else if (error) {
    positionEl.dataset.state = "denied";
    positionEl.textContent = t("positionUnavailable");
  }
}

async function load() {
  let result;
  try {
    result = await getJSON("/api/v1/patrol/mine");
  } catch (error) {
    result = null;
  }
  if (!result || !result.ok) {
    say(status, problem(result), "error");
    return;
  }
  if (result.saved) {
    notice(t("savedCopy"));
  }
  const mine = result.data;
  places = mine.places || [];
  fill(
    document.getElementById("m-grids"),
    (mine.grids || []).map((grid) => h("li", { dataset: { grid: grid.code } }, h("strong", {}, grid.name), ` ${grid.code}`)),
  );
  if (map) {
    drawGrids(map, mine.grids || []);
    drawPlaces(map, places);
    mapEl.dataset.state = "ready";
  }
  showPlaces(geo.lastFix());
  const running = track.state();
  const tile = document.getElementById("m-patrol-tile");
  if (running && !running.stopping) {
    tile.textContent = t("patrolRunning");
  } else if (mine.active_patrol) {
    tile.textContent = t("patrolActiveElsewhere");
  }
}

async function todoCount() {
  try {
    const result = await getJSON("/api/v1/cases/inbox");
    if (!result.ok) {
      return;
    }
    const n = result.data.filter((b) => b.key === "verify" || b.key === "check").reduce((sum, b) => sum + b.count, 0);
    const badge = document.getElementById("m-todo-count");
    badge.textContent = String(n);
    badge.hidden = n === 0;
  } catch (error) {
    // offline without a copy: no count
  }
}

document.getElementById("m-centre").addEventListener("click", () => me?.centre());
geo.follow(showPosition);
load();
todoCount();
