/*
 * The report form's duplicate check, as the resident types and places the pin: open reports of
 * the same kind nearby (GET /api/v1/cases/duplicates) are listed with a "follow it" button, so
 * nobody files the same matter twice. Without JavaScript the server does the same check when the
 * form is sent (the hidden "duplicates_seen" stays empty, so it asks once).
 */
(function () {
  "use strict";

  const offer = document.getElementById("duplicates-offer");
  const form = offer && offer.closest("form");
  if (!form) {
    return;
  }
  const list = offer.querySelector("[data-list]");
  const seen = form.querySelector("input[name=duplicates_seen]");
  const send = form.querySelector("[data-send]");
  const field = (name) => form.querySelector(`[name=${name}]`);
  let asked = "";
  let timer = null;

  function item(d) {
    const li = document.createElement("li");
    li.dataset.number = d.number;
    const title = document.createElement("strong");
    title.textContent = d.title;
    const state = document.createElement("span");
    state.className = `state state-${d.state}`;
    state.textContent = d.state_label;
    const meta = document.createElement("small");
    meta.textContent = `${d.number} · ${offer.dataset.labelAway.replace("{m}", d.distance_m)} · ${offer.dataset.labelReported} ${d.reported_on}`;
    const follow = document.createElement("button");
    follow.type = "submit";
    follow.className = "button secondary";
    follow.name = "follow";
    follow.value = d.number;
    follow.formNoValidate = true;
    follow.textContent = offer.dataset.labelFollow;
    li.append(title, " ", state, document.createElement("br"), meta, document.createElement("br"), follow);
    return li;
  }

  function show(found) {
    list.replaceChildren(...found.map(item));
    offer.hidden = found.length === 0;
    if (send) {
      send.hidden = found.length > 0; // choose: follow one, or "a different matter"
    }
    seen.value = "1";
  }

  function check() {
    const lon = field("lon").value;
    const lat = field("lat").value;
    const text = (field("description").value || "").trim();
    if (!lon || !lat || !text) {
      return;
    }
    const url = new URL(offer.dataset.url, window.location.href);
    url.searchParams.set("lon", lon);
    url.searchParams.set("lat", lat);
    url.searchParams.set("crs", field("crs").value || "wgs84");
    url.searchParams.set("text", text.slice(0, 2000));
    const classField = field("case_class");
    if (classField && classField.value) {
      url.searchParams.set("case_class", classField.value);
    }
    if (url.search === asked) {
      return;
    }
    asked = url.search;
    fetch(url, { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(show)
      .catch(() => {
        seen.value = ""; // the server checks when the form is sent
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 700);
  }

  field("description").addEventListener("input", later);
  // The map sets the hidden lon/lat inputs without events: look again after each tap on the page.
  document.addEventListener("click", later);
  window.setTimeout(check, 0);
})();
