/*
 * What every screen of the grid worker's app shares: the page's configuration and translated
 * texts (JSON islands written by the template: the Content-Security-Policy forbids inline
 * scripts, and the scripts carry no user-visible strings), a DOM builder that never parses
 * HTML, the CSRF token, ids, and small formatting helpers.
 */

function readJSON(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : {};
}

export const config = readJSON("m-config");
const labels = readJSON("m-labels");

/** The translated text ``key`` with its {placeholders} filled in. */
export function t(key, values = {}) {
  const text = key in labels ? labels[key] : key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
}

export function hasLabel(key) {
  return key in labels;
}

/** An element: ``h("a", {href, class, dataset: {..}, onclick}, child, "text", ...)``. */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name === "class") {
      node.className = value;
    } else if (name === "dataset") {
      for (const [key, item] of Object.entries(value)) {
        if (item !== null && item !== undefined) {
          node.dataset[key] = String(item);
        }
      }
    } else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

/** Replace ``node``'s children. */
export function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

export function csrfToken() {
  const name = config.csrfCookie || "csrftoken";
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) {
      return decodeURIComponent(rest.join("="));
    }
  }
  return "";
}

/** A random version-4 UUID (crypto.randomUUID needs a secure context; the fallback does not). */
export function uuid() {
  if (crypto.randomUUID) {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * GET JSON from the API. ``saved`` is true when the service worker answered from its copy
 * because the phone is offline. Throws only when there is neither network nor a copy.
 */
export async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    data = null;
  }
  return {
    ok: response.ok,
    status: response.status,
    data,
    saved: response.headers.get("X-Offline-Copy") === "1",
  };
}

/** The message to show for a failed read: the server's own, or ours for "offline". */
export function problem(result) {
  const error = (result && result.data && result.data.error) || {};
  if (result && (result.status === 401 || result.status === 403)) {
    return t("signInAgain");
  }
  if (!result || error.code === "offline") {
    return t("offlineNoCopy");
  }
  return error.message || t("loadFailed");
}

export function param(name) {
  return new URLSearchParams(window.location.search).get(name) || "";
}

export function pageUrl(screen, query = {}) {
  const url = new URL(config.pages[screen], window.location.href);
  for (const [key, value] of Object.entries(query)) {
    url.searchParams.set(key, value);
  }
  return url.pathname + url.search;
}

export function formatDistance(metres) {
  if (metres === null || metres === undefined || Number.isNaN(Number(metres))) {
    return "";
  }
  const m = Number(metres);
  return m < 1000 ? t("metres", { n: Math.round(m) }) : t("kilometres", { n: (m / 1000).toFixed(1) });
}

const timeFormat = new Intl.DateTimeFormat(config.language === "en" ? "en-GB" : "zh-CN", {
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});

export function formatTime(value) {
  if (!value) {
    return "";
  }
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? "" : timeFormat.format(date);
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  return hours ? t("hoursMinutes", { h: hours, m: minutes }) : t("minutesSeconds", { m: minutes, s: s % 60 });
}

export function percent(share) {
  return share === null || share === undefined ? "" : `${(Number(share) * 100).toFixed(1)}%`;
}

/** A short message in the page's status line (an aria-live region). */
export function say(node, text, kind = "") {
  if (node) {
    node.textContent = text;
    node.dataset.kind = kind;
    node.hidden = !text;
  }
}
