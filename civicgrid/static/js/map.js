/*
 * The grid map (/map/): every grid of one boundary generation coloured by street, community and
 * district borders on top, a card for the grid under the pointer, search by code or name, and
 * "which grid is this point in" through the locate API.
 *
 * Every text shown to people comes from the #map-labels JSON written by the template, so that
 * it is translated with the rest of the site; this file carries no user-visible strings.
 */
(function () {
  "use strict";

  function readJSON(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  const config = readJSON("map-config");
  const labels = readJSON("map-labels");
  const mapEl = document.getElementById("map");
  if (!config || !labels || !mapEl || typeof L === "undefined") {
    return;
  }

  const cardEl = document.getElementById("map-card");
  const sideEl = document.getElementById("map-side");
  const toolsEl = sideEl.querySelector(".map-tools");
  const searchToggle = sideEl.querySelector(".search-toggle");
  const searchForm = document.getElementById("map-search");
  const searchInput = document.getElementById("map-q");
  const searchStatus = document.getElementById("map-search-status");
  const resultsEl = document.getElementById("map-results");
  const legendEl = document.getElementById("map-legend");

  // Tableau-like colours: distinct, calm, readable under dark borders and white labels.
  const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#edc948", "#76b7b2",
    "#ff9da7", "#9c755f", "#bab0ac"];
  // Neighbouring communities of one street get different strengths of the street's colour.
  const SHADES = [0.5, 0.66, 0.36];
  const LEVEL_RANK = { district: 0, street: 1, community: 2, grid: 3 };
  const MAX_RESULTS = 20;
  // The server sends coordinates in the tiles' CRS (GCJ-02 under GCJ-02 tiles, WGS-84 with no
  // tiles), so a clicked point is in that CRS too and the locate API must be told so.
  const dataCrs = config.tileUrl ? config.tileCrs : "wgs84";
  const canHover = window.matchMedia("(hover: hover) and (pointer: fine)").matches;
  const narrow = window.matchMedia("(max-width: 767px)");
  const regionUrl = mapEl.dataset.regionUrl;

  let numbers;
  try {
    numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
  } catch (error) {
    numbers = new Intl.NumberFormat();
  }

  function interpolate(text, values) {
    return text.replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
  }

  function formatNumber(value, digits) {
    if (digits === undefined) {
      return numbers.format(value);
    }
    return value.toLocaleString(numbers.resolvedOptions().locale, {
      minimumFractionDigits: digits, maximumFractionDigits: digits,
    });
  }

  function formatArea(m2) {
    if (m2 === null || m2 === undefined) {
      return "";
    }
    if (m2 >= 1e6) {
      return interpolate(labels.squareKm, { n: formatNumber(m2 / 1e6, 2) });
    }
    return interpolate(labels.hectares, { n: formatNumber(m2 / 1e4, m2 < 1e5 ? 2 : 1) });
  }

  /* Small DOM builder; text always goes in through textContent. */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) {
        continue;
      }
      if (key === "class") {
        node.className = value;
      } else if (key === "text") {
        node.textContent = value;
      } else if (key.startsWith("on")) {
        node.addEventListener(key.slice(2), value);
      } else {
        node.setAttribute(key, value === true ? "" : value);
      }
    }
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child);
      }
    }
    return node;
  }

  function closeIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M6 6l12 12M18 6L6 18");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2.4");
    path.setAttribute("stroke-linecap", "round");
    svg.append(path);
    return svg;
  }

  /* --- the map ------------------------------------------------------------------------------ */

  const map = L.map(mapEl, { zoomControl: false, minZoom: 3, maxZoom: 19, zoomSnap: 0.25 });
  L.control.zoom({ position: "topright", zoomInTitle: labels.zoomIn, zoomOutTitle: labels.zoomOut }).addTo(map);
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
  for (const [name, zIndex] of [["borders", 450], ["selection", 460]]) {
    const pane = map.createPane(name);
    pane.style.zIndex = zIndex;
    pane.style.pointerEvents = "none";
  }
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.tileAttribution || "", maxZoom: 19 }).addTo(map);
  } else {
    mapEl.classList.add("no-tiles");
  }
  map.on("zoomend", () => {
    mapEl.dataset.zoom = String(map.getZoom());
  });

  const regions = new Map(); // code → {feature, layer (grids only), bounds}
  const streetColours = new Map();
  const communityShade = new Map();
  const gridCounts = new Map(); // street or community code → number of grids
  const childCounts = new Map();
  let searchItems = [];
  let gridLayer = null;
  let selection = null;
  let marker = null;
  let pinned = null; // what the card shows when the pointer is not over a grid
  let hintDismissed = false;
  let locateRequest = null;

  function byCode(a, b) {
    return a.properties.code < b.properties.code ? -1 : a.properties.code > b.properties.code ? 1 : 0;
  }

  function bump(counter, key) {
    if (key) {
      counter.set(key, (counter.get(key) || 0) + 1);
    }
  }

  function gridStyle(feature) {
    const p = feature.properties;
    return {
      color: "#ffffff",
      weight: 0.8,
      opacity: 0.95,
      fillColor: streetColours.get(p.street_code) || "#8a96a3",
      fillOpacity: SHADES[communityShade.get(p.parent_code) || 0],
    };
  }

  function boundsOf(entry) {
    if (!entry.bounds) {
      entry.bounds = entry.layer ? entry.layer.getBounds() : L.geoJSON(entry.feature).getBounds();
    }
    return entry.bounds;
  }

  /* Padding that keeps a fitted area clear of the side panel (desktop) or the bottom sheet. */
  function viewPadding(extra) {
    if (narrow.matches) {
      const sheet = cardEl.hidden ? 0 : Math.min(cardEl.offsetHeight, mapEl.clientHeight * 0.55);
      return Object.assign({ paddingTopLeft: [16, 64], paddingBottomRight: [16, sheet + 16] }, extra);
    }
    const right = legendEl.open ? legendEl.offsetWidth + 24 : 64;
    return Object.assign({ paddingTopLeft: [sideEl.offsetWidth + 32, 24], paddingBottomRight: [right, 24] }, extra);
  }

  function draw(collection) {
    const levels = { district: [], street: [], community: [], grid: [] };
    for (const feature of collection.features || []) {
      const p = feature.properties || {};
      if (levels[p.level]) {
        levels[p.level].push(feature);
        regions.set(p.code, { feature: feature, layer: null, bounds: null });
        bump(childCounts, p.parent_code);
        if (p.level === "grid") {
          bump(gridCounts, p.parent_code);
          bump(gridCounts, p.street_code);
        }
      }
    }
    Object.values(levels).forEach((list) => list.sort(byCode));
    levels.street.forEach((f, i) => streetColours.set(f.properties.code, PALETTE[i % PALETTE.length]));
    const perStreet = new Map();
    for (const f of levels.community) {
      const i = perStreet.get(f.properties.parent_code) || 0;
      perStreet.set(f.properties.parent_code, i + 1);
      communityShade.set(f.properties.code, i % SHADES.length);
    }

    gridLayer = L.geoJSON(levels.grid, { className: "grid-cell", style: gridStyle, onEachFeature: bindGrid });
    const communityLayer = L.geoJSON(levels.community, {
      pane: "borders", interactive: false, className: "community-border",
      style: { color: "#27313d", weight: 1.6, opacity: 0.72, fill: false },
    });
    const districtLayer = L.geoJSON(levels.district, {
      pane: "borders", interactive: false, className: "district-border",
      style: { color: "#111827", weight: 3.6, opacity: 0.9, fill: false },
    });
    const outline = levels.district.length ? districtLayer : gridLayer;
    if (!outline.getLayers().length) {
      showMessage(labels.loadFailed);
      mapEl.dataset.state = "empty";
      return;
    }
    map.fitBounds(outline.getBounds(), viewPadding({ animate: false }));
    mapEl.dataset.zoom = String(map.getZoom());
    gridLayer.addTo(map);
    communityLayer.addTo(map);
    districtLayer.addTo(map);
    gridLayer.eachLayer((layer) => {
      const code = layer.feature.properties.code;
      regions.get(code).layer = layer;
      const element = layer.getElement();
      if (element) {
        element.setAttribute("data-code", code);
      }
    });

    searchItems = [...levels.district, ...levels.street, ...levels.community, ...levels.grid].map((f) => ({
      code: String(f.properties.code),
      name: String(f.properties.name || ""),
      lower: String(f.properties.name || "").toLowerCase(),
      feature: f,
    }));
    buildLegend(levels.street);
    mapEl.dataset.state = "ready";

    const focus = new URLSearchParams(window.location.search).get("focus");
    if (focus && !selectRegion(focus.trim(), { animate: false })) {
      pinned = { kind: "message", text: interpolate(labels.notOnMap, { code: focus }) };
      renderCard();
    } else if (!focus) {
      renderCard();
    }
  }

  function bindGrid(feature, layer) {
    if (!canHover) {
      return;
    }
    // Only hover is bound here: a click on a grid must reach the map, which asks the server.
    layer.bindTooltip(feature.properties.name, { sticky: true, direction: "top", offset: [0, -8], opacity: 0.92 });
    layer.on("mouseover", () => {
      layer.setStyle({ weight: 2.4, color: "#1f2933", fillOpacity: 0.85 });
      layer.bringToFront();
      // A pinned card (a search result, a located point) stays; the tooltip names the grid.
      if (!isPinned()) {
        renderCard({ kind: "region", feature: feature, preview: true });
      }
    });
    layer.on("mouseout", () => {
      gridLayer.resetStyle(layer);
      if (!isPinned()) {
        renderCard();
      }
    });
  }

  function isPinned() {
    return pinned !== null && pinned.kind !== "message";
  }

  /* --- selection, marker ------------------------------------------------------------------- */

  function showSelection(feature) {
    clearSelection();
    if (!feature) {
      return;
    }
    const options = { pane: "selection", interactive: false, fill: false };
    selection = L.featureGroup([
      L.geoJSON(feature, { ...options, className: "selection-halo", style: { color: "#ffffff", weight: 7, opacity: 0.9 } }),
      L.geoJSON(feature, { ...options, className: "selection-outline", style: { color: "#ff5a1f", weight: 3.5, opacity: 1 } }),
    ]).addTo(map);
  }

  function clearSelection() {
    if (selection) {
      selection.remove();
      selection = null;
    }
  }

  function placeMarker(latlng) {
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = L.marker(latlng, { interactive: false, keyboard: false, alt: labels.yourPoint }).addTo(map);
      marker.getElement().classList.add("locate-marker");
    }
  }

  function clearMarker() {
    if (marker) {
      marker.remove();
      marker = null;
    }
  }

  function selectRegion(code, options) {
    const entry = regions.get(code);
    if (!entry) {
      return false;
    }
    clearMarker();
    abortLocate();
    pinned = { kind: "region", feature: entry.feature };
    showSelection(entry.feature);
    renderCard();
    map.fitBounds(boundsOf(entry), viewPadding(Object.assign({ maxZoom: 17 }, options)));
    return true;
  }

  function closeCard() {
    pinned = null;
    hintDismissed = true;
    abortLocate();
    clearMarker();
    clearSelection();
    cardEl.hidden = true;
    cardEl.replaceChildren();
  }

  /* --- the card ------------------------------------------------------------------------------ */

  function facts(feature) {
    const p = feature.properties;
    // [field, label, value]; the field name lets the phone layout drop rows the sentence repeats.
    const rows = [["code", labels.code, p.code]];
    if (p.level === "grid") {
      rows.push(["type", labels.type, labels.gridTypes[p.grid_type] || p.grid_type]);
      rows.push(["community", labels.community, p.community]);
      rows.push(["street", labels.street, p.street]);
    } else if (p.level === "community") {
      const street = regions.get(p.parent_code);
      rows.push(["street", labels.street, street ? street.feature.properties.name : null]);
    } else if (p.level === "district") {
      rows.push(["streets", labels.streets, childCounts.get(p.code)]);
    } else if (p.level === "street") {
      rows.push(["communities", labels.communities, childCounts.get(p.code)]);
    }
    rows.push(["area", labels.area, formatArea(p.area_m2)]);
    if (p.level === "grid") {
      rows.push(["population", labels.population, p.population == null ? null : formatNumber(p.population)]);
      rows.push(["households", labels.households, p.households == null ? null : formatNumber(p.households)]);
    } else if (p.level !== "district") {
      rows.push(["grids", labels.grids, gridCounts.get(p.code)]);
    }
    return h("dl", { class: "card-facts" },
      rows.filter(([, , value]) => value !== null && value !== undefined && value !== "")
        .map(([field, term, value]) => [
          h("dt", { "data-field": field, text: term }),
          h("dd", { "data-field": field, text: String(value) }),
        ]));
  }

  function header(title, kicker) {
    return h("div", { class: "card-head" },
      h("div", { class: "card-titles" },
        kicker ? h("p", { class: "card-kicker", text: kicker }) : null,
        title ? h("h2", { id: "card-title", text: title }) : null),
      h("button", { type: "button", class: "card-close", "aria-label": labels.close, title: labels.close, onclick: closeCard },
        closeIcon()));
  }

  function regionBody(feature) {
    const p = feature.properties;
    const kicker = p.level === "grid"
      ? `${labels.levels.grid} · ${labels.gridTypes[p.grid_type] || ""}`.replace(/ · $/, "")
      : labels.levels[p.level];
    return [
      header(p.name, kicker),
      facts(feature),
      p.synthetic ? h("p", { class: "card-note", text: `${labels.boundary}: ${labels.synthetic}` }) : null,
      h("p", { class: "card-actions" },
        h("a", { class: "button", href: regionUrl.replace("__code__", encodeURIComponent(p.code)), text: labels.details })),
    ];
  }

  function placeSentence(place) {
    return interpolate(labels.located, {
      grid: place.grid.name, community: place.community.name, street: place.street.name,
    });
  }

  function renderCard(state) {
    const shown = state || pinned;
    const parts = [];
    let kind = shown ? shown.kind : "hint";
    if (!shown) {
      if (hintDismissed) {
        cardEl.hidden = true;
        return;
      }
      parts.push(h("div", { class: "card-head" },
        h("p", { class: "card-hint", text: canHover ? labels.hint : labels.hintTouch }),
        h("button", { type: "button", class: "card-close", "aria-label": labels.close, title: labels.close, onclick: closeCard },
          closeIcon())));
    } else if (shown.kind === "region") {
      parts.push(...regionBody(shown.feature));
    } else if (shown.kind === "locating") {
      const status = h("p", { class: "card-status", text: labels.locating });
      if (shown.feature) {
        parts.push(...regionBody(shown.feature));
        parts.splice(1, 0, status);
      } else {
        parts.push(header(labels.yourPoint), status);
      }
    } else if (shown.kind === "located") {
      const sentence = h("p", { class: "card-located", text: placeSentence(shown.place) });
      if (shown.feature) {
        parts.push(...regionBody(shown.feature));
        parts.splice(1, 0, sentence);
      } else {
        parts.push(header(shown.place.grid.name, labels.levels.grid), sentence);
      }
    } else if (shown.kind === "outside") {
      const nearest = shown.error.detail && shown.error.detail.nearest_grid;
      parts.push(header(labels.yourPoint), h("p", { class: "card-error", text: shown.error.message }));
      if (nearest && regions.has(nearest.code)) {
        parts.push(h("p", { class: "card-actions" },
          h("button", { type: "button", class: "button secondary", onclick: () => selectRegion(nearest.code) },
            labels.nearest)));
      }
    } else if (shown.kind === "failed") {
      parts.push(header(labels.yourPoint), h("p", { class: "card-error", text: shown.message || labels.locateFailed }));
    } else {
      kind = "message";
      parts.push(header(null), h("p", { class: "card-error", text: shown.text }));
    }
    cardEl.replaceChildren(...parts);
    cardEl.dataset.kind = kind;
    cardEl.classList.toggle("is-hint", kind === "hint");
    cardEl.hidden = false;
  }

  function showMessage(text) {
    pinned = { kind: "message", text: text };
    renderCard();
  }

  /* --- which grid is at a point -------------------------------------------------------------- */

  function abortLocate() {
    if (locateRequest) {
      locateRequest.abort();
      locateRequest = null;
    }
  }

  function locateAt(latlng, target) {
    const point = latlng.wrap();
    const code = target && target.getAttribute ? target.getAttribute("data-code") : null;
    const entry = code ? regions.get(code) : null;
    placeMarker(latlng);
    showSelection(entry ? entry.feature : null);
    pinned = { kind: "locating", feature: entry ? entry.feature : null };
    renderCard();

    abortLocate();
    const request = new AbortController();
    locateRequest = request;
    const url = new URL(config.locateUrl, window.location.href);
    url.searchParams.set("lon", point.lng.toFixed(7));
    url.searchParams.set("lat", point.lat.toFixed(7));
    url.searchParams.set("crs", dataCrs);
    if (config.generation !== null && config.generation !== undefined) {
      url.searchParams.set("generation", String(config.generation));
    }
    fetch(url, { headers: { Accept: "application/json" }, signal: request.signal })
      .then((response) => response.json().catch(() => null).then((body) => ({ response, body })))
      .then(({ response, body }) => {
        if (locateRequest !== request) {
          return; // a newer click won
        }
        locateRequest = null;
        if (response.ok && body && body.grid) {
          const found = regions.get(body.grid.code);
          pinned = { kind: "located", feature: found ? found.feature : null, place: body };
          showSelection(found ? found.feature : null);
        } else if (body && body.error) {
          pinned = { kind: "outside", error: body.error };
          showSelection(null);
        } else {
          pinned = { kind: "failed" };
        }
        renderCard();
      })
      .catch((error) => {
        if (error.name !== "AbortError") {
          pinned = { kind: "failed" };
          renderCard();
        }
      });
  }

  map.on("click", (event) => {
    if (mapEl.dataset.state !== "ready") {
      return;
    }
    setSearchOpen(false);
    locateAt(event.latlng, event.originalEvent && event.originalEvent.target);
  });

  /* --- search ------------------------------------------------------------------------------ */

  function levelLine(feature) {
    const p = feature.properties;
    const parent = p.level === "grid" ? p.community : p.parent_code && regions.has(p.parent_code)
      ? regions.get(p.parent_code).feature.properties.name : "";
    return [labels.levels[p.level], p.code, parent].filter(Boolean).join(" · ");
  }

  function search(text) {
    const query = text.trim();
    const lower = query.toLowerCase();
    resultsEl.replaceChildren();
    if (!query) {
      searchStatus.textContent = "";
      return [];
    }
    const found = [];
    let total = 0;
    for (const item of searchItems) {
      if (item.code.startsWith(query) || item.lower.includes(lower)) {
        total += 1;
        if (found.length < MAX_RESULTS) {
          found.push(item);
        }
      }
    }
    // Exact code or name first: typing a full code should put that one on top.
    found.sort((a, b) => Number(b.code === query || b.name === query) - Number(a.code === query || a.name === query)
      || LEVEL_RANK[a.feature.properties.level] - LEVEL_RANK[b.feature.properties.level]);
    searchStatus.textContent = total === 0 ? labels.noMatches
      : total > MAX_RESULTS ? interpolate(labels.firstMatches, { n: MAX_RESULTS })
        : interpolate(labels.matches, { n: total });
    resultsEl.replaceChildren(...found.map((item) => h("li", null,
      h("button", { type: "button", class: "result", "data-code": item.code, onclick: () => choose(item.code) },
        h("span", { class: "result-name", text: item.name }),
        h("span", { class: "result-meta", text: levelLine(item.feature) })))));
    return found;
  }

  function choose(code) {
    for (const button of resultsEl.querySelectorAll(".result")) {
      button.setAttribute("aria-current", String(button.dataset.code === code));
    }
    if (narrow.matches) {
      setSearchOpen(false);
    }
    selectRegion(code);
  }

  function setSearchOpen(open) {
    toolsEl.classList.toggle("is-open", open);
    searchToggle.setAttribute("aria-expanded", String(open));
    if (open) {
      searchInput.focus();
    }
  }

  let searchTimer = null;
  searchInput.addEventListener("input", () => {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => search(searchInput.value), 120);
  });
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    window.clearTimeout(searchTimer);
    const found = search(searchInput.value);
    if (found.length) {
      choose(found[0].code);
    }
  });
  searchInput.addEventListener("keydown", (event) => {
    const first = resultsEl.querySelector(".result");
    if (event.key === "ArrowDown" && first) {
      event.preventDefault();
      first.focus();
    } else if (event.key === "Escape") {
      searchInput.value = "";
      search("");
      if (narrow.matches) {
        setSearchOpen(false);
        searchToggle.focus();
      }
    }
  });
  resultsEl.addEventListener("keydown", (event) => {
    const buttons = [...resultsEl.querySelectorAll(".result")];
    const at = buttons.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < buttons.length - 1) {
      event.preventDefault();
      buttons[at + 1].focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      (at > 0 ? buttons[at - 1] : searchInput).focus();
    } else if (event.key === "Escape") {
      searchInput.focus();
    }
  });
  searchToggle.addEventListener("click", () => setSearchOpen(!toolsEl.classList.contains("is-open")));
  L.DomEvent.disableClickPropagation(sideEl);
  L.DomEvent.disableScrollPropagation(sideEl);
  L.DomEvent.disableClickPropagation(legendEl);
  L.DomEvent.disableScrollPropagation(legendEl);

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !cardEl.hidden && document.activeElement !== searchInput) {
      closeCard();
    }
  });

  /* --- legend ---------------------------------------------------------------------------- */

  function buildLegend(streets) {
    const list = legendEl.querySelector(".legend-list");
    list.replaceChildren(...streets.map((f) => h("li", null,
      h("button", { type: "button", class: "legend-item", "data-code": f.properties.code,
        onclick: () => selectRegion(f.properties.code) },
      h("span", { class: "swatch", style: `background:${streetColours.get(f.properties.code)}`, "aria-hidden": "true" }),
      h("span", { text: f.properties.name })))));
  }

  if (narrow.matches) {
    legendEl.open = false; // a phone needs the room; the summary stays one tap away
  }

  /* --- load ---------------------------------------------------------------------------- */

  const dataUrl = new URL(config.dataUrl, window.location.href);
  if (config.generation !== null && config.generation !== undefined) {
    dataUrl.searchParams.set("generation", String(config.generation));
  }
  mapEl.dataset.state = "loading";
  fetch(dataUrl, { headers: { Accept: "application/geo+json, application/json" } })
    .then((response) => {
      if (!response.ok) {
        throw new Error(`HTTP ${response.status}`);
      }
      return response.json();
    })
    .then(draw)
    .catch((error) => {
      mapEl.dataset.state = "failed";
      showMessage(labels.loadFailed);
      if (window.console) {
        window.console.error(error);
      }
    });
})();
