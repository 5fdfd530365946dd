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
