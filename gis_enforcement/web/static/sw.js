/* The service worker of /app, registered by both pages: keeps the pages and every file they load (SHELL: the
   pages, app.css, common.js — the words of both languages are in it —, the pages' scripts and Leaflet) so that the
   patrol page and the console open with no network — a patrol on a river bank, a department officer summoned to
   a mountain site without signal. Network first (a new release is picked up as soon as the server answers), the
   kept copy when offline. The API is never cached here: the patrol page's reports wait in its own outbox
   (IndexedDB), and the console keeps its report-ins and the department's last assignment list itself
   (localStorage, per user). */
"use strict";

const CACHE = "gise-app-v1";
const SHELL = [
  "/app/patrol", "/app/console", "/app/static/app.css", "/app/static/common.js", "/app/static/exif.js",
  "/app/static/store.js", "/app/static/patrol.js", "/app/static/console.js",
  "/app/static/leaflet/leaflet.js", "/app/static/leaflet/leaflet.css",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/app/")) return;
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((c) => c.put(event.request, copy));
    }
    return response;
  }).catch(() => caches.match(event.request, { ignoreSearch: true })
    .then((hit) => hit || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } }))));
});
