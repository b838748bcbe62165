/*
 * Every screen: the service worker, the send queue's badge in the top bar (always visible:
 * how many writes wait, how many need the worker), the online/offline mark, the "sign in
 * again" banner, the outbox's sending and a running patrol's tracking.
 */

import { config, h, fill, t } from "./core.js";
import * as outbox from "./outbox.js";
import * as track from "./track.js";

if ("serviceWorker" in navigator && config.serviceWorker) {
  navigator.serviceWorker.register(config.serviceWorker, { scope: config.scope }).catch((error) => {
    console.warn("service worker not registered", error);
  });
}

const badge = document.getElementById("m-queue");
const count = document.getElementById("m-queue-count");
const net = document.getElementById("m-net");
const banner = document.getElementById("m-banner");

export async function refreshBadge() {
  if (!badge) {
    return;
  }
  const items = await outbox.items();
  const conflicts = items.filter((item) => item.state === "conflict").length;
  badge.dataset.count = String(items.length);
  badge.dataset.conflicts = String(conflicts);
  count.textContent = String(items.length);
  badge.setAttribute("aria-label", t("queueBadge", { n: items.length, conflicts }));
}

function refreshNet() {
  if (net) {
    net.dataset.online = navigator.onLine ? "1" : "0";
    net.textContent = navigator.onLine ? t("online") : t("offline");
  }
}

function refreshBanner() {
  if (!banner) {
    return;
  }
  if (outbox.signInNeeded()) {
    const next = window.location.pathname + window.location.search;
    fill(
      banner,
      h("span", {}, t("signInAgainQueued")),
      h("a", { class: "m-button small", href: `${config.loginUrl}?next=${encodeURIComponent(next)}` }, t("signIn")),
    );
    banner.dataset.kind = "auth";
    banner.hidden = false;
  } else if (banner.dataset.kind === "auth") {
    banner.hidden = true;
    banner.dataset.kind = "";
  }
}

/** A notice under the top bar (e.g. "showing what was saved when you were last online"). */
export function notice(text, kind = "info") {
  if (!banner || banner.dataset.kind === "auth") {
    return;
  }
  banner.dataset.kind = text ? kind : "";
  banner.hidden = !text;
  fill(banner, text || "");
}

outbox.events.addEventListener("change", refreshBadge);
outbox.events.addEventListener("auth", refreshBanner);
window.addEventListener("online", refreshNet);
window.addEventListener("offline", refreshNet);

refreshNet();
refreshBanner();
refreshBadge();
outbox.start();
track.resume();
