/*
 * The small map on case pages: where a case is (the case page, the resident's follow page), or
 * where a new one is (the new-case and report forms: a tap or "use my position" fills the form's
 * hidden lon/lat/crs inputs and the locate API says which grid the point is in).
 *
 * Base tiles are optional (settings.TILE_URL); the grid boundaries from /map/grids.geojson are
 * always drawn, so the map shows the place even on an intranet without tiles. The server sends
 * coordinates in the CRS the map is drawn in (config.crs), so a tapped point is in that CRS too
 * and the form says so; the phone's position is always WGS-84.
 *
 * Texts come from the #case-map-labels JSON written by the template (translated there).
 */
(function () {
  "use strict";

  function readJSON(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  const config = readJSON("case-map-config");
  const labels = readJSON("case-map-labels");
  const mapEl = document.getElementById("case-map");
  if (!config || !labels || !mapEl || typeof L === "undefined") {
    return;
  }
  const editable = Boolean(config.editable);
  const form = mapEl.closest("form");
  const statusEl = document.getElementById("case-map-status");
  const positionButton = document.getElementById("case-map-position");
  const field = (name) => (form ? form.querySelector(`input[name="${name}"]`) : null);

  function interpolate(text, values) {
    return text.replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
  }

  function say(text, kind) {
    if (statusEl) {
      statusEl.textContent = text;
      statusEl.dataset.kind = kind || "";
    }
  }

  const map = L.map(mapEl, {
    zoomControl: false,
    minZoom: 3,
    maxZoom: 19,
    zoomSnap: 0.25,
    // A page scrolls past a small map; the wheel zooms only once the map has been clicked.
    scrollWheelZoom: false,
  });
  L.control.zoom({ position: "topright", zoomInTitle: labels.zoomIn, zoomOutTitle: labels.zoomOut }).addTo(map);
  map.once("focus", () => map.scrollWheelZoom.enable());
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.tileAttribution || "", maxZoom: 19 }).addTo(map);
  } else {
    mapEl.classList.add("no-tiles");
  }

  // Only when the boundaries cannot be loaded and the page has no point of its own: all of China.
  const FALLBACK_CENTRE = [35, 105];
  let marker = null;
  let gridLayer = null;
  const grids = new Map(); // code → layer
  let highlighted = null;

  function placeMarker(latlng, alt) {
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = L.marker(latlng, { interactive: false, keyboard: false, alt: alt }).addTo(map);
      const element = marker.getElement(); // none until the map has a view
      if (element) {
        element.classList.add("case-marker");
      }
    }
  }

  function highlight(code) {
    if (highlighted && gridLayer) {
      gridLayer.resetStyle(highlighted);
    }
    highlighted = grids.get(code) || null;
    if (highlighted) {
      highlighted.setStyle({ color: "#ff5a1f", weight: 3, fillColor: "#ff5a1f", fillOpacity: 0.18 });
      highlighted.bringToFront();
    }
  }

  // The point already in the form (a re-shown form after an error) or the case's own point.
  const start = (() => {
    if (config.point) {
      return L.latLng(config.point[1], config.point[0]);
    }
    const lon = field("lon");
    const lat = field("lat");
    if (lon && lat && lon.value && lat.value) {
      return L.latLng(Number(lat.value), Number(lon.value));
    }
    return null;
  })();
  if (start) {
    map.setView(start, 16);
    placeMarker(start, editable ? labels.yourPoint : labels.casePoint);
  }

  function draw(collection) {
    const features = collection.features || [];
    const byLevel = (level) => features.filter((f) => f.properties && f.properties.level === level);
    gridLayer = L.geoJSON(byLevel("grid"), {
      className: "grid-cell",
      style: { color: "#6b7785", weight: 0.8, opacity: 0.8, fillColor: "#8a96a3", fillOpacity: 0.08 },
      onEachFeature: (feature, layer) => grids.set(feature.properties.code, layer),
    });
    const communities = L.geoJSON(byLevel("community"), {
      interactive: false,
      style: { color: "#27313d", weight: 1.4, opacity: 0.6, fill: false },
    });
    const outline = L.geoJSON(byLevel("district"), {
      interactive: false,
      style: { color: "#111827", weight: 3, opacity: 0.85, fill: false },
    });
    if (!start) {
      // Leaflet draws vectors only on a map with a view: set it before adding them.
      // The person's own area (a grid worker's grid, an operator's street …), else the district.
      const codes = new Set(config.focus || []);
      const focus = features.filter((f) => f.properties && codes.has(f.properties.code));
      const bounds = (focus.length ? L.geoJSON(focus) : outline).getBounds();
      if (bounds.isValid()) {
        map.fitBounds(bounds, { padding: [12, 12], animate: false });
      } else {
        map.setView(FALLBACK_CENTRE, 4);
      }
    }
    gridLayer.addTo(map);
    communities.addTo(map);
    outline.addTo(map);
    gridLayer.eachLayer((layer) => {
      const element = layer.getElement();
      if (element) {
        element.setAttribute("data-code", layer.feature.properties.code);
      }
    });
    if (config.grid) {
      highlight(config.grid);
    }
    mapEl.dataset.state = "ready";
  }

  function load() {
    fetch(config.dataUrl, { headers: { Accept: "application/geo+json, application/json" } })
      .then((response) => {
        if (!response.ok) {
          throw new Error(`HTTP ${response.status}`);
        }
        return response.json();
      })
      .then(draw)
      .catch((error) => {
        mapEl.dataset.state = "failed";
        say(labels.loadFailed, "error");
        if (!start) {
          map.setView(FALLBACK_CENTRE, 4);
        }
        if (window.console) {
          window.console.error(error);
        }
      });
  }

  /* --- choosing a place (forms only) ---------------------------------------------------------- */

  let locateRequest = null;

  function choose(latlng, crs) {
    const point = latlng.wrap();
    field("lon").value = point.lng.toFixed(7);
    field("lat").value = point.lat.toFixed(7);
    field("crs").value = crs;
    placeMarker(latlng, labels.yourPoint);
    say(labels.locating, "busy");
    if (locateRequest) {
      locateRequest.abort();
    }
    const request = new AbortController();
    locateRequest = request;
    const url = new URL(config.locateUrl, window.location.href);
    url.searchParams.set("lon", point.lng.toFixed(7));
    url.searchParams.set("lat", point.lat.toFixed(7));
    url.searchParams.set("crs", crs);
    fetch(url, { headers: { Accept: "application/json" }, signal: request.signal })
      .then((response) => response.json().catch(() => null))
      .then((body) => {
        if (locateRequest !== request) {
          return; // a newer choice won
        }
        locateRequest = null;
        if (body && body.grid) {
          highlight(body.grid.code);
          say(interpolate(labels.located, {
            grid: body.grid.name, community: body.community.name, street: body.street.name,
          }), "ok");
          mapEl.dataset.grid = body.grid.code;
        } else {
          highlight(null);
          say(body && body.error ? body.error.message : labels.locateFailed, "error");
        }
      })
      .catch((error) => {
        if (error.name !== "AbortError") {
          say(labels.locateFailed, "error");
        }
      });
  }

  if (editable && form) {
    map.on("click", (event) => choose(event.latlng, config.crs));
    if (positionButton) {
      if (!("geolocation" in navigator)) {
        positionButton.hidden = true;
      }
      positionButton.addEventListener("click", () => {
        say(labels.finding, "busy");
        navigator.geolocation.getCurrentPosition(
          (position) => {
            // The phone gives WGS-84; on GCJ-02 tiles the marker sits a few hundred metres off,
            // but the server converts the submitted point exactly (crs=wgs84).
            const latlng = L.latLng(position.coords.latitude, position.coords.longitude);
            map.setView(latlng, Math.max(map.getZoom() || 0, 16));
            choose(latlng, "wgs84");
          },
          () => say(labels.positionFailed, "error"),
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
        );
      });
    }
  }

  load();
})();
