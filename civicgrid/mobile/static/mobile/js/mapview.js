/*
 * Leaflet maps for the app: my grids, the key places with their check-in circles, my position
 * with its accuracy, and a patrol's track. Leaflet is the vendored copy the rest of the site
 * uses (a classic script loaded before the modules); base tiles only when settings.TILE_URL
 * is set — the grids are drawn either way, so the map works on an intranet without tiles.
 */

import { config, t } from "./core.js";
import { toMap } from "./geo.js";

export function latLng(lon, lat) {
  const [x, y] = toMap(lon, lat);
  return L.latLng(y, x);
}

/** A map in ``element``, or null (with a message in it) when Leaflet is not there. */
export function makeMap(element) {
  if (!element) {
    return null;
  }
  if (typeof L === "undefined") {
    element.dataset.state = "unavailable";
    element.textContent = t("mapUnavailable");
    return null;
  }
  const map = L.map(element, { zoomControl: true, attributionControl: Boolean(config.tileUrl), minZoom: 3 });
  map.zoomControl.setPosition("topright");
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.tileAttribution || "", maxZoom: 19 }).addTo(map);
  } else {
    element.classList.add("no-tiles");
  }
  map.setView([32.05, 118.8], 13); // until the grids are in (they fit the view)
  element.dataset.state = "ready";
  return map;
}

function geo(data, options) {
  return L.geoJSON(data, { ...options, coordsToLatLng: (c) => latLng(c[0], c[1]) });
}

/** Draw ``grids`` ([{code, name, geometry}]) and fit the view to them. */
export function drawGrids(map, grids) {
  const layer = L.featureGroup(
    grids.map((grid) =>
      geo(grid.geometry, {
        style: { color: "#0b5cad", weight: 2.5, fillColor: "#0b5cad", fillOpacity: 0.08 },
        interactive: false,
      }),
    ),
  ).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [16, 16] });
  }
  return layer;
}

/** The key places: a dot and the check-in circle of each. */
export function drawPlaces(map, places) {
  const group = L.layerGroup().addTo(map);
  for (const place of places) {
    const centre = latLng(place.lon, place.lat);
    L.circle(centre, {
      radius: place.radius_m,
      color: "#ff5a1f",
      weight: 1.5,
      fillOpacity: 0.12,
      interactive: false,
    }).addTo(group);
    L.circleMarker(centre, { radius: 6, color: "#fff", weight: 2, fillColor: "#ff5a1f", fillOpacity: 1 })
      .bindTooltip(place.name, { direction: "top", offset: [0, -6] })
      .addTo(group);
  }
  return group;
}

/** My position: a blue dot and its accuracy circle. */
export class Me {
  constructor(map) {
    this.map = map;
    this.dot = null;
    this.ring = null;
    this.centred = false;
  }

  update(fix) {
    if (!fix || !this.map) {
      return;
    }
    const here = latLng(fix.lon, fix.lat);
    if (!this.dot) {
      this.ring = L.circle(here, {
        radius: fix.accuracy || 0,
        color: "#1a73e8",
        weight: 1,
        fillOpacity: 0.1,
        interactive: false,
      }).addTo(this.map);
      this.dot = L.circleMarker(here, {
        radius: 8,
        color: "#fff",
        weight: 3,
        fillColor: "#1a73e8",
        fillOpacity: 1,
        interactive: false,
      }).addTo(this.map);
    } else {
      this.dot.setLatLng(here);
      this.ring.setLatLng(here).setRadius(fix.accuracy || 0);
    }
  }

  centre(zoom = 17) {
    if (this.dot) {
      this.map.setView(this.dot.getLatLng(), Math.max(this.map.getZoom(), zoom));
    }
  }
}

/** A patrol's track as it grows. */
export class Track {
  constructor(map) {
    this.line = map ? L.polyline([], { color: "#2f9e44", weight: 4, opacity: 0.9, interactive: false }).addTo(map) : null;
  }

  set(points) {
    if (this.line) {
      this.line.setLatLngs(points.map((p) => latLng(p.lon, p.lat)));
    }
  }

  add(point) {
    if (this.line) {
      this.line.addLatLng(latLng(point.lon, point.lat));
    }
  }
}

/** GeoJSON the server sent (a covered area, a track), drawn once. */
export function drawShape(map, data, style) {
  return map && data ? geo(data, { style, interactive: false }).addTo(map) : null;
}
