// Starts the inbox (wasm) and, a little later, installs the service worker that keeps the app
// shell for offline use. A separate file: the page's CSP allows no inline script.
import init from './pigeon_inbox.js';

init();
// Installing it copies the whole shell: not while the first list is being fetched and drawn.
if ('serviceWorker' in navigator) {
  addEventListener('load', () => setTimeout(() => navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => {}), 2000));
}
// A sign-in link opened in a tab that already shows the inbox changes only the fragment:
// start over so the link is used.
addEventListener('hashchange', () => {
  if (location.hash.startsWith('#signin=')) location.reload();
});

// Push on this device, for the Settings view (Rust calls these through `window.pigeonPush`).
// The Push API needs the service worker; `enable` registers it at once if it is not yet.
const fromBase64Url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
const registration = async () => {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) throw new Error('this browser has no Push API');
  await navigator.serviceWorker.register('sw.js', { scope: './' });
  return navigator.serviceWorker.ready;
};
window.pigeonPush = {
  async enable(publicKey) {
    if (!('Notification' in window)) throw new Error('this browser shows no notifications');
    if ((await Notification.requestPermission()) !== 'granted') throw new Error('notifications are blocked for this page in the browser');
    const reg = await registration();
    const sub = (await reg.pushManager.getSubscription()) || (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64Url(publicKey) }));
    return JSON.stringify(sub.toJSON());
  },
  async current() {
    if (!('serviceWorker' in navigator) || !('PushManager' in window)) return null;
    const reg = await navigator.serviceWorker.getRegistration('./');
    const sub = reg && (await reg.pushManager.getSubscription());
    return sub ? sub.endpoint : null;
  },
  async disable() {
    const reg = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration('./') : null;
    const sub = reg && (await reg.pushManager.getSubscription());
    if (!sub) return null;
    const endpoint = sub.endpoint;
    await sub.unsubscribe();
    return endpoint;
  },
};

// Settings (the shop, notifications, API tokens, webhooks) and Reports are a second wasm
// module, loaded the first time either opens (inbox/manage). A failed load is tried again on the next open, at
// a new URL (some browsers keep a failed import's answer for the page's life).
let manage;
let tries = 0;
window.pigeonManage = {
  async open(parent, site, renamed, part) {
    manage ||= import(`./manage/pigeon_inbox_manage.js${tries++ ? `?try=${tries}` : ''}`).then(async (m) => { await m.default(); return m; });
    try {
      (await manage).open(parent, site, renamed, part);
    } catch (e) {
      manage = undefined;
      throw e;
    }
  },
  shut() {
    manage?.then((m) => m.shut(), () => {});
  },
};
