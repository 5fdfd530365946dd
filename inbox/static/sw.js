// The inbox's service worker: keeps the app shell (page, script, wasm, styles) so the inbox
// opens without a network and shows what it last had (kept by the app in localStorage).
// The API (/v1/...) is never cached: it is always asked fresh, and fails offline.
const CACHE = 'pigeon-inbox-v1';
const SHELL = ['./', 'index.html', 'boot.js', 'pigeon_inbox.js', 'pigeon_inbox_bg.wasm', 'inbox.css', 'manifest.webmanifest', 'icon.svg'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()),
  );
});

// Network first (a new version shows at once), the cache when offline.
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/inbox/')) return;
  event.respondWith(
    fetch(event.request)
      .then((resp) => {
        if (resp.ok) {
          const copy = resp.clone();
          caches.open(CACHE).then((c) => c.put(event.request, copy));
        }
        return resp;
      })
      .catch(() => caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || caches.match('index.html'))),
  );
});
