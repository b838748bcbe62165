/*
 * The grid map's search by code or name, over the regions map.js has drawn. Loaded after map.js
 * and map-card.js; it reads window.CivicGridMap and adds setSearchOpen to it.
 */
(function () {
  "use strict";

  const shared = window.CivicGridMap;
  if (!shared) {
    return; // map.js found no map to draw
  }
  const { labels, sideEl, cardEl, narrow, regions, interpolate, h } = shared;

  const toolsEl = sideEl.querySelector(".map-tools");
  const searchToggle = sideEl.querySelector(".search-toggle");
  const searchForm = document.getElementById("map-search");
  const searchInput = document.getElementById("map-q");
  const searchStatus = document.getElementById("map-search-status");
  const resultsEl = document.getElementById("map-results");

  const LEVEL_RANK = { district: 0, street: 1, community: 2, grid: 3 };
  const MAX_RESULTS = 20;

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
    for (const item of shared.searchItems) {
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
    shared.selectRegion(code);
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

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !cardEl.hidden && document.activeElement !== searchInput) {
      shared.closeCard();
    }
  });

  shared.setSearchOpen = setSearchOpen;
})();
