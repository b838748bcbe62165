/*
 * One patrol on a map: the grid's outline, the covered area, the track of the points used, and
 * the flagged points (poor accuracy in amber, impossible jumps in red), which the track skips.
 *
 * Everything comes from the page's #patrol-map-data JSON, already in the CRS of the base tiles
 * (no tiles: WGS-84); texts come from #patrol-map-labels, translated by the template.
 */
(function () {
  "use strict";

  function readJSON(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  const data = readJSON("patrol-map-data");
  const labels = readJSON("patrol-map-labels") || {};
  const mapEl = document.getElementById("patrol-map");
  if (!data || !mapEl || typeof L === "undefined") {
    return;
  }

  const map = L.map(mapEl, { minZoom: 3, maxZoom: 20, zoomSnap: 0.25, scrollWheelZoom: false });
  map.once("focus", () => map.scrollWheelZoom.enable());
  if (data.tileUrl) {
    L.tileLayer(data.tileUrl, { attribution: data.tileAttribution || "", maxZoom: 20 }).addTo(map);
  } else {
    mapEl.classList.add("no-tiles");
  }

  const layers = [];
  if (data.grid) {
    layers.push(
      L.geoJSON(data.grid, {
        style: { color: "#44546a", weight: 2, fill: false, dashArray: "6 4" },
        interactive: false,
      }).addTo(map)
    );
  }
  if (data.covered) {
    layers.push(
      L.geoJSON(data.covered, {
        style: { color: "#2f7d4f", weight: 1, fillColor: "#2f7d4f", fillOpacity: 0.3 },
      })
        .bindTooltip(labels.covered || "")
        .addTo(map)
    );
  }
  if (data.track) {
    layers.push(
      L.geoJSON(data.track, { style: { color: "#1d5fb4", weight: 3, opacity: 0.9 } })
        .bindTooltip(labels.track || "")
        .addTo(map)
    );
  }
  const flagged = L.layerGroup().addTo(map);
  (data.flagged || []).forEach((p) => {
    const jump = p.flag === 2;
    L.circleMarker([p.lat, p.lon], {
      radius: 5,
      color: jump ? "#c62828" : "#e0a100",
      fillColor: jump ? "#c62828" : "#e0a100",
      fillOpacity: 0.8,
      weight: 1,
    })
      .bindTooltip(jump ? labels.jump || "" : labels.inaccurate || "")
      .addTo(flagged);
  });

  // The view fits the grid and the walk; a wild jump may lie hundreds of metres off, where
  // zooming out finds it (fitting it too would shrink the grid to a speck on a phone).
  let bounds = null;
  layers.forEach((layer) => {
    const b = layer.getBounds ? layer.getBounds() : null;
    if (b && b.isValid()) {
      bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
    }
  });
  if (bounds) {
    map.fitBounds(bounds, { padding: [16, 16] });
  } else {
    map.setView([35, 105], 4); // nothing to show: all of China
  }
  mapEl.dataset.state = "ready";
  mapEl.dataset.flagged = String((data.flagged || []).length);
})();
