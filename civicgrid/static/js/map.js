/*
 * The grid map (/map/): every grid of one boundary generation coloured by street, community and
 * district borders on top, a card for the grid under the pointer, search by code or name, and
 * "which grid is this point in" through the locate API.
 *
 * Three scripts, loaded in this order: this one (setup, layers, legend, focus, loading the data),
 * map-card.js (the card or bottom sheet, the selection and the locate call) and map-search.js
 * (search). They share what they need through window.CivicGridMap, which this one creates.
 *
 * Every text shown to people comes from the #map-labels JSON written by the template, so that
 * it is translated with the rest of the site; these files carry no user-visible strings.
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
  const legendEl = document.getElementById("map-legend");

  // Tableau-like colours: distinct, calm, readable under dark borders and white labels.
  const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#edc948", "#76b7b2",
    "#ff9da7", "#9c755f", "#bab0ac"];
  // Neighbouring communities of one street get different strengths of the street's colour.
  const SHADES = [0.5, 0.66, 0.36];
  const canHover = window.matchMedia("(hover: hover) and (pointer: fine)").matches;
  const narrow = window.matchMedia("(max-width: 767px)");

  const { h, fill: interpolate } = window.CivicGridDom;

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
  let gridLayer = null;

  /*
   * What map-card.js and map-search.js share with this file. They add their own functions to it
   * (renderCard, showMessage, isPinned, selectRegion, closeCard; setSearchOpen), which this file
   * only calls once the data has come, after they have run.
   */
  const shared = {
    config, labels, mapEl, cardEl, sideEl, canHover, narrow, map, regions, gridCounts, childCounts,
    searchItems: [], interpolate, h, boundsOf, viewPadding,
  };
  window.CivicGridMap = shared;

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
      shared.showMessage(labels.loadFailed);
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

    shared.searchItems = [...levels.district, ...levels.street, ...levels.community, ...levels.grid].map((f) => ({
      code: String(f.properties.code),
      name: String(f.properties.name || ""),
      lower: String(f.properties.name || "").toLowerCase(),
      feature: f,
    }));
    buildLegend(levels.street);
    mapEl.dataset.state = "ready";

    const focus = new URLSearchParams(window.location.search).get("focus");
    if (focus && !shared.selectRegion(focus.trim(), { animate: false })) {
      shared.showMessage(interpolate(labels.notOnMap, { code: focus }));
    } else if (!focus) {
      shared.renderCard();
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
      if (!shared.isPinned()) {
        shared.renderCard({ kind: "region", feature: feature, preview: true });
      }
    });
    layer.on("mouseout", () => {
      gridLayer.resetStyle(layer);
      if (!shared.isPinned()) {
        shared.renderCard();
      }
    });
  }

  /* --- legend ---------------------------------------------------------------------------- */

  function buildLegend(streets) {
    const list = legendEl.querySelector(".legend-list");
    list.replaceChildren(...streets.map((f) => h("li", null,
      h("button", { type: "button", class: "legend-item", "data-code": f.properties.code,
        onclick: () => shared.selectRegion(f.properties.code) },
      h("span", { class: "swatch", style: `background:${streetColours.get(f.properties.code)}`, "aria-hidden": "true" }),
      h("span", { text: f.properties.name })))));
  }

  L.DomEvent.disableClickPropagation(sideEl);
  L.DomEvent.disableScrollPropagation(sideEl);
  L.DomEvent.disableClickPropagation(legendEl);
  L.DomEvent.disableScrollPropagation(legendEl);

  if (narrow.matches) {
    legendEl.open = false; // a phone needs the room; the summary stays one tap away
  }

  /* --- load ---------------------------------------------------------------------------- */

  function load() {
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
        shared.showMessage(labels.loadFailed);
        if (window.console) {
          window.console.error(error);
        }
      });
  }

  // map-card.js and map-search.js come after this script: load once the page has run them all.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", load);
  } else {
    load();
  }
})();
