// The inbox's service worker: keeps the app shell (page, script, wasm, styles) so the inbox
// opens without a network and shows what it last had (kept by the app in localStorage).
// The API (/v1/...) is never cached: it is always asked fresh, and fails offline.
const CACHE = 'pigeon-inbox-v2';
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
      // Offline: what was kept; a page that was not kept opens the app, anything else fails
      // as a network error (never the page in place of a script).
      .catch(() => caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || (event.request.mode === 'navigate' ? caches.match('index.html') : Response.error()))),
  );
});

// Web Push from the relay (RFC 8030/8291/8292): a shopper's message nobody has seen. The
// payload is JSON (PushPayload in protocol/src/settings.rs); its text is there only if the
// teammate chose it in Settings.
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const title = typeof data.title === 'string' && data.title ? data.title : 'Pigeon';
  const body = typeof data.body === 'string' && data.body ? data.body : 'New message from a shopper';
  event.waitUntil(
    self.registration.showNotification(title, { body, tag: data.conversation || 'pigeon', renotify: true, icon: 'icon.svg', data: { url: data.url || '/inbox/' } }),
  );
});

// A click opens the conversation: in an inbox tab already open, else in a new one.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const wanted = new URL((event.notification.data && event.notification.data.url) || '/inbox/', self.location.origin);
  const url = wanted.origin === self.location.origin ? wanted.href : new URL('/inbox/', self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((tabs) => {
      const tab = tabs.find((t) => new URL(t.url).pathname.startsWith('/inbox/'));
      if (tab) return tab.navigate(url).then((t) => (t || tab).focus());
      return self.clients.openWindow(url);
    }),
  );
});
