// A Web Push service on this machine for tests: the npm package `web-push-testing` (an
// implementation we did not write) hands out subscriptions, checks each push's VAPID JWT
// (ES256, against the subscription's applicationServerKey) and decrypts its aes128gcm body
// with `http_ece`. We also keep each push's headers, to check the JWT's claims.
import { createRequire } from 'node:module';
import { freePort } from './stack.mjs';

const require = createRequire(import.meta.url);
const WebPushTestingServer = require('web-push-testing/src/server.js');
const { PushApiModel } = require('web-push-testing/src/PushApiModel.js');

export async function startPushService() {
  const port = await freePort();
  const model = new PushApiModel();
  const seen = [];
  const handle = model.handleNotification.bind(model);
  model.handleNotification = async (clientHash, headers, body) => {
    const entry = { clientHash, headers, at: Date.now(), ok: false };
    seen.push(entry);
    await handle(clientHash, headers, body);
    entry.ok = true;
  };
  const server = new WebPushTestingServer(model, port);
  const log = console.log;
  console.log = () => {};
  server.startServer();
  console.log = log;
  const url = `http://localhost:${port}`;
  const post = async (path, body) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${path}: ${JSON.stringify(json)}`);
    return json.data;
  };
  for (let i = 0; i < 50; i++) {
    try { await fetch(`${url}/status`, { method: 'POST' }); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  return {
    url,
    /// A subscription for `applicationServerKey` (the relay's VAPID public key), as
    /// `PushSubscription.toJSON()` gives it, plus its `clientHash`.
    subscribe: (applicationServerKey) => post('/subscribe', { userVisibleOnly: 'true', applicationServerKey }),
    /// The decrypted payloads delivered to a subscription, oldest first (parsed JSON).
    messages: async (clientHash) => (await post('/get-notifications', { clientHash })).messages.map((m) => JSON.parse(m)),
    /// Every push that reached the service, with its headers; `ok` once verified and decrypted.
    seen,
    expire: (clientHash) => fetch(`${url}/expire-subscription/${clientHash}`, { method: 'POST' }),
    close: () => new Promise((r) => server._server.close(() => r())),
  };
}

/// The claims of a VAPID `Authorization: vapid t=<jwt>, k=<key>` header (not verified here:
/// the service did that).
export function vapidClaims(authorization) {
  const t = /t=([^,\s]+)/.exec(authorization ?? '')?.[1];
  const k = /k=([^,\s]+)/.exec(authorization ?? '')?.[1];
  if (!t) return null;
  const [header, claims] = t.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
  return { header, claims, key: k };
}
