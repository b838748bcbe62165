/*
 * The grid map's card (a side panel on a desktop, a bottom sheet on a phone), the selection and
 * the marker, and "which grid is this point in" through the locate API. Loaded after map.js,
 * whose window.CivicGridMap it reads and adds renderCard, showMessage, isPinned, selectRegion
 * and closeCard to.
 */
(function () {
  "use strict";

  const shared = window.CivicGridMap;
  if (!shared) {
    return; // map.js found no map to draw
  }
  const { config, labels, mapEl, cardEl, canHover, map, regions, gridCounts, childCounts } = shared;
  const { interpolate, h, boundsOf, viewPadding } = shared;

  // The server sends coordinates in the tiles' CRS (GCJ-02 under GCJ-02 tiles, WGS-84 with no
  // tiles), so a clicked point is in that CRS too and the locate API must be told so.
  const dataCrs = config.tileUrl ? config.tileCrs : "wgs84";
  const regionUrl = mapEl.dataset.regionUrl;

  let numbers;
  try {
    numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
  } catch (error) {
    numbers = new Intl.NumberFormat();
  }

  // A grid's people, fetched once per grid for signed-in users; the API answers 404 outside
  // the user's scope, which is remembered as "no people to show".
  const people = new Map();

  let selection = null;
  let marker = null;
  let pinned = null; // what the card shows when the pointer is not over a grid
  let hintDismissed = false;
  let locateRequest = null;

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

  function peopleList(code) {
    if (!config.signedIn) {
      return null;
    }
    if (!people.has(code)) {
      people.set(code, null);
      const url = `${config.regionsUrl}/${encodeURIComponent(code)}/people`;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : []))
        .catch(() => [])
        .then((list) => {
          people.set(code, list);
          if (pinned && pinned.feature && pinned.feature.properties.code === code) {
            renderCard();
          }
        });
      return null;
    }
    const list = people.get(code);
    if (!list || !list.length) {
      return null;
    }
    return h("div", { class: "card-people" },
      h("h3", { text: labels.people }),
      h("ul", {}, list.map((person) => h("li", { text: `${person.post_label}：${person.name}` }))));
  }

  function regionBody(feature) {
    const p = feature.properties;
    const kicker = p.level === "grid"
      ? `${labels.levels.grid} · ${labels.gridTypes[p.grid_type] || ""}`.replace(/ · $/, "")
      : labels.levels[p.level];
    return [
      header(p.name, kicker),
      facts(feature),
      p.level === "grid" ? peopleList(p.code) : null,
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
    shared.setSearchOpen(false);
    locateAt(event.latlng, event.originalEvent && event.originalEvent.target);
  });

  Object.assign(shared, { renderCard, showMessage, isPinned, selectRegion, closeCard });
})();
