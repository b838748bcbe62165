/*
 * The grid worker app's service worker (version {{ version }}), served from {{ scope }}sw.js so
 * that its scope is the app. It keeps the app shell — the screens, their scripts and styles,
 * Leaflet, the icons — so that the app starts without a connection:
 *   screens        network first; the last copy of each when offline (one per screen: a
 *                  screen's query, e.g. ?number=, is read by its script);
 *   static files   from the cache, fetched once per version;
 *   API reads      network first, the last answer when offline (marked X-Offline-Copy: 1).
 * Writes are never touched here: the pages' outbox (IndexedDB) sends them.
 */
"use strict";

const VERSION = "{{ version }}";
const SHELL = `shell-${VERSION}`;
const PAGES = "pages";
const API = "api";
const SCOPE = "{{ scope }}";
const STATIC = "{{ static_prefix }}";
const SHELL_FILES = {{ shell|safe }};
const PAGE_URLS = {{ pages|safe }};
const MATCH = { ignoreVary: true };

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const shell = await caches.open(SHELL);
      // One by one, so that a file missing (Leaflet before `make assets`) does not stop the rest.
      await Promise.all(SHELL_FILES.map((url) => shell.add(url).catch(() => null)));
      const pages = await caches.open(PAGES);
      // One after another: a phone on a weak connection, and a server, are spared a burst.
      for (const url of PAGE_URLS) {
        try {
          const response = await fetch(url, { credentials: "same-origin" });
          if (response.ok && !response.redirected) {
            await pages.put(url, response);
          }
        } catch (error) {
          // offline while installing: the screen is kept the next time it is opened
        }
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("shell-") && name !== SHELL) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

function offlineAnswer() {
  const body = JSON.stringify({ error: { code: "offline", message: "", detail: {} } });
  return new Response(body, { status: 503, headers: { "Content-Type": "application/json", "X-Offline-Copy": "1" } });
}

async function screen(request, url) {
  const cache = await caches.open(PAGES);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && response.type === "basic") {
      await cache.put(url.pathname, response.clone());
    }
    return response;
  } catch (error) {
    const copy = (await cache.match(url.pathname, MATCH)) || (await cache.match(`${SCOPE}outbox/`, MATCH));
    return copy ? marked(copy) : offlineAnswer();
  }
}

/** A saved copy, marked as such (X-Offline-Copy: 1). */
async function marked(copy) {
  const headers = new Headers(copy.headers);
  headers.set("X-Offline-Copy", "1");
  return new Response(await copy.blob(), { status: copy.status, statusText: copy.statusText, headers });
}

async function apiRead(request) {
  const cache = await caches.open(API);
  try {
    const response = await fetch(request);
    if (response.ok) {
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const copy = await cache.match(request, MATCH);
    return copy ? marked(copy) : offlineAnswer();
  }
}

async function shellFile(request) {
  const copy = await caches.match(request, MATCH);
  if (copy) {
    return copy;
  }
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(SHELL);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return; // base-map tiles: the browser's own cache
  }
  if (request.mode === "navigate") {
    if (url.pathname.startsWith(SCOPE)) {
      event.respondWith(screen(request, url));
    }
  } else if (url.pathname.startsWith("/api/") || /^\/cases\/[^/]+\/files\//.test(url.pathname)) {
    event.respondWith(apiRead(request));
  } else if (url.pathname.startsWith(STATIC) || url.pathname.startsWith(SCOPE)) {
    event.respondWith(shellFile(request));
  }
});
