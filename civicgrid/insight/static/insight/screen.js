/*
 * The big screen (/command/): polls the blocks of /api/v1/insight/screen/… and draws them — the
 * headline tiles, the grid map shaded by open or overdue cases (Leaflet), the 30-day trend and
 * the top classes (ECharts), the street ranking, the live feed, whistles and warnings.
 *
 * The feed is asked every config.feedSeconds with the cursor the previous answer gave; the other
 * blocks every config.blockSeconds (their figures come from rollups refreshed each minute).
 * Nothing is asked while the tab is hidden. Every number is a link to the case list behind it.
 * Texts come from the #screen-labels JSON written by the template (translated there).
 */
(function () {
  "use strict";

  function readJSON(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  const config = readJSON("screen-config");
  const labels = readJSON("screen-labels");
  const root = document.getElementById("screen");
  if (!config || !labels || !root) {
    return;
  }
  const lang = document.documentElement.lang || "zh-hans";
  const locale = lang.toLowerCase().startsWith("zh") ? "zh-CN" : lang;
  const FEED_MAX = 60; // items kept on screen

  const { h, fill } = window.CivicGridDom;

  function number(value) {
    return value === null || value === undefined ? "—" : Number(value).toLocaleString(locale);
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
  }

  function go(link) {
    if (link) {
      window.location.assign(link);
    }
  }

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) {
      throw new Error(`${url}: ${response.status}`);
    }
    return response.json();
  }

  /* --- header: clock, last refresh, connection ---------------------------------------------- */

  const clock = document.getElementById("clock");
  const refreshed = document.getElementById("refreshed");
  const stale = document.getElementById("stale");
  // The district's time zone (the server's), whatever the screen's computer is set to.
  const zone = { timeZone: config.timeZone || undefined };
  const timeFormat = new Intl.DateTimeFormat(locale, { ...zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  const dayFormat = new Intl.DateTimeFormat(locale, { ...zone, year: "numeric", month: "2-digit", day: "2-digit", weekday: "short" });

  function tick() {
    const now = new Date();
    clock.textContent = `${dayFormat.format(now)} ${timeFormat.format(now)}`;
    clock.dateTime = now.toISOString();
  }
  tick();
  setInterval(tick, 1000);

  // A wall screen runs full screen; the button shows where the browser allows it.
  const fullscreen = document.getElementById("fullscreen");
  if (fullscreen && document.fullscreenEnabled) {
    fullscreen.hidden = false;
    fullscreen.addEventListener("click", () => {
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else {
        document.documentElement.requestFullscreen().catch(() => {});
      }
    });
  }

  function markFresh(ok) {
    stale.hidden = ok;
    if (ok) {
      const now = new Date();
      refreshed.textContent = timeFormat.format(now);
      refreshed.dateTime = now.toISOString();
    }
  }

  /* --- the blocks ----------------------------------------------------------------------------- */

  const RATES = new Set(["on_time_closure", "satisfaction"]);

  function drawSummary(data) {
    document.getElementById("scope-name").textContent = data.scope;
    for (const figure of data.figures) {
      const tile = root.querySelector(`.tile[data-key="${figure.key}"]`);
      if (!tile) {
        continue;
      }
      tile.href = figure.link;
      const value = tile.querySelector("[data-role=value]");
      value.textContent = RATES.has(figure.key) ? percent(figure.value) : number(figure.value);
      tile.title = figure.value === null ? labels.noData : "";
      tile.dataset.value = figure.value === null ? "" : String(figure.value);
    }
  }

  const charts = {};

  function chart(id) {
    if (!charts[id]) {
      const el = document.getElementById(id);
      charts[id] = echarts.init(el, "dark", { renderer: "canvas" });
      el.dataset.state = "ready";
      // The panel's other content (the sub-class list) arrives later and changes the space left.
      if (window.ResizeObserver) {
        new ResizeObserver(() => charts[id].resize()).observe(el);
      }
    }
    return charts[id];
  }

  const AXIS = { axisLine: { lineStyle: { color: "#3d5a80" } }, axisLabel: { color: "#9fb3c8" }, splitLine: { lineStyle: { color: "#1c3150" } } };

  function drawTrend(data) {
    const c = chart("trend-chart");
    const series = [{ name: labels.reported, type: "line", smooth: true, showSymbol: false, data: data.reported, areaStyle: { opacity: 0.15 } }];
    if (data.closed) {
      series.push({ name: labels.closed, type: "line", smooth: true, showSymbol: false, data: data.closed });
    }
    c.setOption({
      backgroundColor: "transparent",
      color: ["#4cc9f0", "#80ed99"],
      grid: { left: 44, right: 12, top: 30, bottom: 24 },
      legend: { top: 0, right: 0, textStyle: { color: "#cfe3ff" } },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.days.map((d) => d.slice(5)), ...AXIS },
      yAxis: { type: "value", minInterval: 1, ...AXIS },
      series,
    }, true);
    // A click anywhere over a day (not only on its point, which the lines do not draw) opens
    // that day's cases.
    const zr = c.getZr();
    zr.off("click");
    zr.on("click", (event) => {
      const point = [event.offsetX, event.offsetY];
      if (c.containPixel("grid", point)) {
        const index = Math.round(c.convertFromPixel({ seriesIndex: 0 }, point)[0]);
        go(data.links[Math.max(0, Math.min(data.links.length - 1, index))]);
      }
    });
  }

  function drawClasses(data) {
    const major = data.major.slice(0, 8).reverse();
    const c = chart("classes-chart");
    c.setOption({
      backgroundColor: "transparent",
      color: ["#f4a261"],
      grid: { left: 8, right: 40, top: 4, bottom: 4, containLabel: true },
      tooltip: { trigger: "item" },
      xAxis: { type: "value", show: false },
      yAxis: { type: "category", data: major.map((r) => r.name), ...AXIS, axisLabel: { color: "#9fb3c8", interval: 0, fontSize: 11 }, splitLine: { show: false } },
      series: [{ type: "bar", data: major.map((r) => r.cases), label: { show: true, position: "right", color: "#e0ecff", fontSize: 11 }, barMaxWidth: 16 }],
    }, true);
    c.off("click");
    c.on("click", (params) => go(major[params.dataIndex] && major[params.dataIndex].link));
    const list = document.getElementById("minor-list");
    list.replaceChildren(
      ...data.minor.slice(0, 5).map((r) => h("li", {}, h("a", { href: r.link, "data-code": r.code }, h("span", { text: r.name }), h("b", { text: number(r.cases) })))),
    );
  }

  function drawRanking(data) {
    const body = document.querySelector("#ranking tbody");
    body.replaceChildren(
      ...data.rows.map((r, i) =>
        h(
          "tr",
          { "data-code": r.code },
          h("td", { text: String(i + 1) }),
          h("th", { scope: "row" }, h("a", { href: r.link, text: r.name })),
          h("td", {}, h("a", { href: r.link, text: number(r.cases) })),
          h("td", { text: number(r.open) }),
          h("td", { class: r.overdue ? "warn" : "", text: number(r.overdue) }),
          h("td", { text: percent(r.on_time_closure) }),
          h("td", {}, h("span", { class: `grade grade-${r.grade || "none"}`, text: r.score === null ? "—" : `${r.score.toFixed(1)} ${r.grade}` })),
        ),
      ),
    );
  }

  function drawWhistles(data) {
    const list = document.getElementById("whistles");
    const count = document.getElementById("whistles-count");
    count.textContent = number(data.count);
    if (data.link) {
      count.href = data.link;
    }
    if (!data.available) {
      list.replaceChildren(h("li", { class: "empty", text: labels.whistlesUnavailable }));
      return;
    }
    if (!data.rows.length) {
      list.replaceChildren(h("li", { class: "empty", text: labels.noWhistles }));
      return;
    }
    list.replaceChildren(
      ...data.rows.map((w) =>
        h(
          "li",
          { class: `whistle whistle-${w.kind}` },
          h("a", { href: w.link },
            h("span", { class: "badge", text: w.kind_label }),
            h("span", { class: "item-title", text: w.title }),
            h("span", { class: "item-meta", text: `${w.region} · ${fill(labels.reportedIn, w)}${w.late ? " · " + fill(labels.late, { n: w.late }) : ""}` })),
        ),
      ),
    );
  }

  function drawWarnings(data) {
    const list = document.getElementById("warnings");
    document.getElementById("warnings-count").textContent = number(data.count);
    if (!data.rows.length) {
      list.replaceChildren(h("li", { class: "empty", text: labels.noWarnings }));
      return;
    }
    list.replaceChildren(
      ...data.rows.map((a) =>
        h(
          "li",
          { class: `alert severity-${a.severity}` },
          h(a.link ? "a" : "span", { href: a.link || null },
            h("span", { class: "badge", text: labels[`severity${a.severity}`] || "" }),
            h("span", { class: "item-title", text: a.explanation }),
            h("span", { class: "item-meta", text: `${a.place} · ${a.kind_label} · ${a.day}` })),
        ),
      ),
    );
  }

  /* --- the live feed -------------------------------------------------------------------------- */

  const feedList = document.getElementById("feed");
  const seen = new Set();
  let cursor = "";

  function drawFeed(data, first) {
    cursor = data.cursor;
    const fresh = data.items.filter((item) => !seen.has(item.key));
    // Oldest first, each put on top, so the newest ends up first.
    for (const item of fresh.slice().reverse()) {
      seen.add(item.key);
      const time = item.at.slice(11, 16);
      feedList.prepend(
        h(
          "li",
          { class: `feed-item feed-${item.kind}${first ? "" : " fresh"}`, "data-number": item.number, "data-kind": item.kind },
          h("a", { href: item.link },
            h("time", { datetime: item.at, text: time }),
            h("span", { class: "badge", text: labels[item.kind] }),
            h("span", { class: "item-title", text: item.title }),
            h("span", { class: "item-meta", text: [item.case_class, item.street, item.grid, item.state_label].filter(Boolean).join(" · ") })),
        ),
      );
    }
    while (feedList.children.length > FEED_MAX) {
      feedList.lastElementChild.remove();
    }
    const empty = feedList.querySelector(".empty");
    if (feedList.children.length === 0) {
      feedList.append(h("li", { class: "empty", text: labels.feedEmpty }));
    } else if (empty && feedList.children.length > 1) {
      empty.remove();
    }
    feedList.dataset.state = "ready";
  }

  /* --- the map -------------------------------------------------------------------------------- */

  const mapEl = document.getElementById("screen-map");
  const legend = document.getElementById("map-legend");
  let map = null;
  let gridLayers = {}; // code -> Leaflet layer
  let shadeBy = "open";
  let lastMap = null;
  let geometry = null; // the GeoJSON promise (loaded once; the server lets the browser cache it)

  function colour(value, max) {
    if (!value) {
      return "#16314f";
    }
    const t = Math.min(1, Math.sqrt(value / Math.max(1, max)));
    const stops = shadeBy === "overdue" ? [[255, 214, 102], [239, 71, 111]] : [[72, 149, 239], [247, 37, 133]];
    const mix = stops[0].map((a, i) => Math.round(a + (stops[1][i] - a) * t));
    return `rgb(${mix.join(",")})`;
  }

  function ensureMap(data) {
    if (map || typeof L === "undefined") {
      return geometry;
    }
    map = L.map(mapEl, { zoomControl: false, attributionControl: Boolean(config.tileUrl), zoomSnap: 0.25 });
    if (window.ResizeObserver) {
      new ResizeObserver(() => map.invalidateSize()).observe(mapEl);
    }
    if (config.tileUrl) {
      L.tileLayer(config.tileUrl, { attribution: config.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    geometry = getJSON(config.geojsonUrl).then((collection) => {
      const only = data.only ? new Set(data.only) : null;
      const grids = collection.features.filter((f) => f.properties.level === "grid" && (!only || only.has(f.properties.code)));
      const layer = L.geoJSON(grids, {
        style: () => ({ color: "#0b1a33", weight: 0.6, fillOpacity: 0.85, fillColor: "#16314f" }),
        onEachFeature: (feature, item) => {
          gridLayers[feature.properties.code] = item;
          item.feature.properties.shown = feature.properties.name;
          item.on("click", () => go(item.options.link));
        },
      }).addTo(map);
      if (!only) {
        const streets = collection.features.filter((f) => f.properties.level === "street");
        L.geoJSON(streets, { style: () => ({ color: "#8ecae6", weight: 1.6, fill: false }), interactive: false }).addTo(map);
      }
      const bounds = layer.getBounds();
      if (bounds.isValid()) {
        map.fitBounds(bounds, { padding: [8, 8] });
      }
      return layer;
    });
    return geometry;
  }

  function shade() {
    if (!lastMap) {
      return;
    }
    const counts = new Map(lastMap.grids.map((g) => [g.code, g]));
    const max = shadeBy === "overdue" ? lastMap.max_overdue : lastMap.max_open;
    for (const [code, item] of Object.entries(gridLayers)) {
      const g = counts.get(code) || { open: 0, overdue: 0, link: "", overdue_link: "" };
      item.setStyle({ fillColor: colour(g[shadeBy], max) });
      item.options.link = shadeBy === "overdue" ? g.overdue_link : g.link;
      const text = fill(labels.grid, { name: item.feature.properties.name, open: g.open, overdue: g.overdue });
      item.unbindTooltip();
      item.bindTooltip(text, { sticky: true });
      if (item.getElement && item.getElement()) {
        item.getElement().setAttribute("data-code", code);
        item.getElement().setAttribute("data-value", String(g[shadeBy]));
      }
    }
    legend.replaceChildren(
      h("span", { text: labels[shadeBy] }),
      h("i", { style: `background:${colour(0, max)}` }), h("span", { text: "0" }),
      h("i", { style: `background:${colour(max, max)}` }), h("span", { text: number(max) }),
    );
    mapEl.dataset.state = "ready";
  }

  function drawMap(data) {
    lastMap = data;
    const ready = ensureMap(data);
    if (ready) {
      ready.then(shade).catch(() => {
        mapEl.dataset.state = "failed";
        legend.textContent = labels.mapFailed;
      });
    }
  }

  for (const button of document.querySelectorAll("[data-shade]")) {
    button.addEventListener("click", () => {
      shadeBy = button.dataset.shade;
      for (const other of document.querySelectorAll("[data-shade]")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
      document.getElementById("map-title").dataset.shade = shadeBy;
      shade();
    });
  }

  /* --- polling -------------------------------------------------------------------------------- */

  const BLOCKS = [
    ["summary", drawSummary],
    ["map", drawMap],
    ["trend", drawTrend],
    ["classes", drawClasses],
    ["streets", drawRanking],
    ["whistles", drawWhistles],
    ["warnings", drawWarnings],
  ];

  async function refreshBlocks() {
    const results = await Promise.allSettled(BLOCKS.map(([name]) => getJSON(config.api[name])));
    let ok = true;
    results.forEach((result, i) => {
      if (result.status === "fulfilled") {
        BLOCKS[i][1](result.value);
      } else {
        ok = false;
      }
    });
    markFresh(ok);
    root.dataset.state = "ready";
  }

  async function refreshFeed(first) {
    const url = new URL(config.api.feed, window.location.href);
    if (cursor) {
      url.searchParams.set("after", cursor);
    }
    try {
      drawFeed(await getJSON(url), first);
    } catch (error) {
      stale.hidden = false;
    }
  }

  function every(seconds, work) {
    const run = async () => {
      if (!document.hidden) {
        await work();
      }
      setTimeout(run, seconds * 1000);
    };
    setTimeout(run, seconds * 1000);
  }

  window.addEventListener("resize", () => {
    Object.values(charts).forEach((c) => c.resize());
    if (map) {
      map.invalidateSize();
    }
  });

  refreshFeed(true);
  refreshBlocks();
  every(config.feedSeconds, () => refreshFeed(false));
  every(config.blockSeconds, refreshBlocks);
})();
