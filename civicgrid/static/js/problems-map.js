/*
 * Coverage problems of a boundary generation on a map (admin: generation problems and import).
 *
 * Community boundaries are drawn lightly for orientation, every problem in red (its geometry,
 * or a marker where it has only a point), and each row of the problem table flies to its
 * problem. Popup labels are read from the table's own (translated) header cells.
 */
(function () {
  "use strict";

  function readJSON(id) {
    const node = document.getElementById(id);
    if (!node) {
      return null;
    }
    try {
      return JSON.parse(node.textContent);
    } catch (error) {
      return null;
    }
  }

  const mapEl = document.getElementById("problem-map");
  if (!mapEl || typeof L === "undefined") {
    return;
  }
  const problems = readJSON("problems-data") || [];
  const context = readJSON("context-data");
  const table = document.querySelector(".problem-table");
  if (!problems.length && !(context && context.features && context.features.length)) {
    mapEl.hidden = true; // nothing to show: no empty grey box
    return;
  }

  // Column titles of the table, by position: #, kind, codes, area, location, feature, message.
  const headers = table ? [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim()) : [];
  const RED = "#d62728";
  const problemStyle = { color: RED, weight: 3, opacity: 0.95, fillColor: RED, fillOpacity: 0.35 };

  const map = L.map(mapEl, { zoomSnap: 0.25, maxZoom: 20 });
  L.control.scale({ imperial: false }).addTo(map);
  map.createPane("context").style.zIndex = 350;

  let contextLayer = null;
  if (context && context.features && context.features.length) {
    contextLayer = L.geoJSON(context, {
      pane: "context",
      style: { color: "#5b6b7b", weight: 1, opacity: 0.7, fillColor: "#9fb3c8", fillOpacity: 0.12 },
      onEachFeature: (feature, layer) => {
        const p = feature.properties || {};
        if (p.name) {
          layer.bindTooltip(p.code ? `${p.name} ${p.code}` : p.name, { sticky: true, opacity: 0.9 });
        }
      },
    });
  }

  function popupContent(problem, index) {
    const box = document.createElement("div");
    box.className = "problem-popup";
    const rows = [
      [headers[1], problem.kind],
      [headers[2], (problem.codes || []).join(", ")],
      [headers[3], problem.area_m2 === null || problem.area_m2 === undefined ? "" : String(problem.area_m2)],
      [headers[6], problem.message],
    ];
    const title = document.createElement("strong");
    title.textContent = `#${index + 1}`;
    box.append(title);
    const list = document.createElement("dl");
    for (const [term, value] of rows) {
      if (!value) {
        continue;
      }
      const dt = document.createElement("dt");
      dt.textContent = term || "";
      const dd = document.createElement("dd");
      dd.textContent = value;
      list.append(dt, dd);
    }
    box.append(list);
    return box;
  }

  function pointMarker(latlng) {
    return L.circleMarker(latlng, { radius: 8, color: "#ffffff", weight: 2, fillColor: RED, fillOpacity: 0.95 });
  }

  // layers[i] belongs to problems[i] (or is null when the problem has no place at all).
  const layers = problems.map((problem, index) => {
    let layer = null;
    if (problem.geometry) {
      layer = L.geoJSON(problem.geometry, { style: problemStyle, pointToLayer: (f, latlng) => pointMarker(latlng) });
      if (!layer.getLayers().length) {
        layer = null;
      }
    }
    if (!layer && problem.lon !== null && problem.lon !== undefined && problem.lat !== null && problem.lat !== undefined) {
      layer = pointMarker([problem.lat, problem.lon]);
    }
    if (layer) {
      layer.bindPopup(() => popupContent(problem, index), { maxWidth: 360 });
      layer.on("click", () => markRow(index));
    }
    return layer;
  });
  const problemGroup = L.featureGroup(layers.filter(Boolean));

  function boundsOf(layer) {
    return layer.getBounds ? layer.getBounds() : L.latLngBounds([layer.getLatLng(), layer.getLatLng()]);
  }

  const start = problemGroup.getLayers().length ? problemGroup.getBounds() : contextLayer && contextLayer.getBounds();
  if (start && start.isValid()) {
    map.fitBounds(start, { padding: [24, 24], maxZoom: 17 });
  } else {
    map.setView([0, 0], 2);
  }
  if (contextLayer) {
    contextLayer.addTo(map);
  }
  problemGroup.addTo(map);

  function markRow(index) {
    if (!table) {
      return;
    }
    for (const row of table.querySelectorAll("tr[data-problem]")) {
      row.classList.toggle("selected", row.dataset.problem === String(index));
    }
  }

  function flyTo(index) {
    const layer = layers[index];
    markRow(index);
    if (!layer) {
      return;
    }
    const bounds = boundsOf(layer);
    // A sliver of a few square metres needs a close look; a point has no size at all.
    map.flyToBounds(bounds.pad(0.5), { maxZoom: 19, duration: 0.6 });
    map.once("moveend", () => layer.openPopup());
    mapEl.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }

  if (table) {
    for (const row of table.querySelectorAll("tr[data-problem]")) {
      const index = Number(row.dataset.problem);
      if (!layers[index]) {
        continue;
      }
      row.tabIndex = 0;
      row.classList.add("locatable");
      row.addEventListener("click", () => flyTo(index));
      row.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          flyTo(index);
        }
      });
    }
  }
})();
