/*
 * The phone's position: one watchPosition per page shared by every listener (the map's dot,
 * the patrol's track, the check-in distances, a form's position). Positions are WGS-84, as the
 * Geolocation API gives them and the API takes them; only the map converts, when its base tiles
 * are GCJ-02 (settings.TILE_CRS), with the published forward formula (civicgrid/geo/crs.py).
 */

import { config } from "./core.js";

const listeners = new Set();
let watchId = null;
let last = null;
let lastError = null;

/** {lon, lat, accuracy (m), t (ISO time)} from a GeolocationPosition. */
export function toFix(position) {
  return {
    lon: position.coords.longitude,
    lat: position.coords.latitude,
    accuracy: position.coords.accuracy,
    t: new Date(position.timestamp || Date.now()).toISOString(),
  };
}

function deliver(fix, error) {
  for (const listener of listeners) {
    try {
      listener(fix, error);
    } catch (problem) {
      console.error(problem);
    }
  }
}

/** Call ``listener(fix, error)`` with every new position (and the last one at once). */
export function follow(listener) {
  listeners.add(listener);
  if (last || lastError) {
    listener(last, lastError);
  }
  if (watchId === null && "geolocation" in navigator) {
    watchId = navigator.geolocation.watchPosition(
      (position) => {
        last = toFix(position);
        lastError = null;
        deliver(last, null);
      },
      (error) => {
        lastError = error;
        deliver(last, error);
      },
      { enableHighAccuracy: true, maximumAge: 5_000, timeout: 60_000 },
    );
  } else if (!("geolocation" in navigator)) {
    lastError = { code: 0, message: "unsupported" };
    listener(null, lastError);
  }
  return () => {
    listeners.delete(listener);
    if (!listeners.size && watchId !== null) {
      navigator.geolocation.clearWatch(watchId);
      watchId = null;
    }
  };
}

export function lastFix() {
  return last;
}

/** Ask for a fresh position now (a button's tap), delivered to the listeners too. */
export function refresh() {
  return new Promise((resolve) => {
    if (!("geolocation" in navigator)) {
      resolve(null);
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        last = toFix(position);
        deliver(last, null);
        resolve(last);
      },
      (error) => {
        deliver(last, error);
        resolve(null);
      },
      { enableHighAccuracy: true, maximumAge: 0, timeout: 30_000 },
    );
  });
}

const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance in metres between two {lon, lat} (close to the server's geodesic one). */
export function distance(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const s =
    Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(s)));
}

/* --- GCJ-02, for drawing on GCJ-02 base tiles only ------------------------------------------- */

const KRASOVSKY_A = 6378245.0;
const KRASOVSKY_EE = 0.00669342162296594323;

function gcjDelta(lon, lat) {
  const x = lon - 105.0;
  const y = lat - 35.0;
  const root = Math.sqrt(Math.abs(x));
  const pi = Math.PI;
  const wave =
    ((20 * Math.sin(6 * x * pi) + 20 * Math.sin(2 * x * pi)) * 2) / 3;
  let dLat =
    -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root + wave +
    ((20 * Math.sin(y * pi) + 40 * Math.sin((y / 3) * pi)) * 2) / 3 +
    ((160 * Math.sin((y / 12) * pi) + 320 * Math.sin((y * pi) / 30)) * 2) / 3;
  let dLon =
    300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root + wave +
    ((20 * Math.sin(x * pi) + 40 * Math.sin((x / 3) * pi)) * 2) / 3 +
    ((150 * Math.sin((x / 12) * pi) + 300 * Math.sin((x / 30) * pi)) * 2) / 3;
  const radLat = (lat / 180) * pi;
  const magic = 1 - KRASOVSKY_EE * Math.sin(radLat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180) / (((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sqrtMagic)) * pi);
  dLon = (dLon * 180) / ((KRASOVSKY_A / sqrtMagic) * Math.cos(radLat) * pi);
  return [dLon, dLat];
}

function outOfChina(lon, lat) {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

/** The CRS the map is drawn in: the tiles', or WGS-84 when there are no tiles. */
export const mapCrs = config.tileUrl && config.tileCrs === "gcj02" ? "gcj02" : "wgs84";

/** A WGS-84 point as [lon, lat] in the map's CRS. */
export function toMap(lon, lat) {
  if (mapCrs !== "gcj02" || outOfChina(lon, lat)) {
    return [lon, lat];
  }
  const [dLon, dLat] = gcjDelta(lon, lat);
  return [lon + dLon, lat + dLat];
}
