// A webhook endpoint on this machine for tests and `make demo`: every request is checked
// with the `standardwebhooks` package (the Standard Webhooks reference implementation for
// JavaScript, which we did not write) against the endpoint's secret. It can be told to fail.
import http from 'node:http';
import { createRequire } from 'node:module';
import { freePort } from './stack.mjs';

const require = createRequire(import.meta.url);
const { Webhook } = require('standardwebhooks');

export { Webhook };

/// Starts an endpoint. `received` lists every request, oldest first: {id, timestamp, headers,
/// body, payload (verified, parsed) or error, status (what we answered)}. `secret` must be set
/// (`endpoint.secret = ...`) before requests come; `failNext(n, status)` answers the next n
/// with `status`; `failAlways(status)` until `failAlways(null)`; a 3xx points at `/followed`.
export async function startEndpoint({ port } = {}) {
  port ??= await freePort();
  const received = [];
  let failing = 0;
  let always = null;
  let failStatus = 500;
  const endpoint = {
    url: `http://127.0.0.1:${port}/hooks`,
    secret: null,
    received,
    failNext(n, status = 500) { failing = n; failStatus = status; },
    failAlways(status) { always = status; },
    /// Verified deliveries answered 2xx, in the order they came.
    delivered: () => received.filter((r) => r.payload && r.status < 300),
  };
  const server = http.createServer((req, res) => {
    // `make demo`: a page listing what arrived, newest first.
    if (req.method === 'GET') {
      const rows = [...received].reverse().map((r) => `<li><b>${esc(r.payload?.type ?? 'refused')}</b> ${esc(r.id ?? '')} — ${r.payload ? 'signature verified' : esc(r.error ?? '')}, answered ${r.status}<pre>${esc(JSON.stringify(r.payload?.data ?? r.body, null, 2))}</pre></li>`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(`<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>Webhook endpoint</title><body style="font-family:system-ui;max-width:60rem;margin:1rem auto">
<h1>Webhook endpoint</h1><p>Events the relay sent to ${esc(endpoint.url)}, each checked with the <code>standardwebhooks</code> package. Reloads every 5 s.</p><ol reversed>${rows.join('')}</ol>`);
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry = { path: req.url, id: req.headers['webhook-id'], timestamp: req.headers['webhook-timestamp'], headers: { ...req.headers }, body, at: Date.now() };
      try {
        entry.payload = new Webhook(endpoint.secret).verify(body, req.headers);
      } catch (e) {
        entry.error = String(e.message ?? e);
      }
      entry.status = !entry.payload ? 400 : always ?? (failing > 0 ? (failing--, failStatus) : 204);
      // A redirect points at `/followed` here: a sender that follows redirects shows up there.
      if (req.url === '/followed') entry.status = 204;
      received.push(entry);
      res.writeHead(entry.status, entry.status >= 300 && entry.status < 400 ? { location: '/followed' } : {}).end();
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  endpoint.close = () => new Promise((r) => server.close(() => r()));
  return endpoint;
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
