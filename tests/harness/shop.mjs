// Serves demo-site/ the way a careful merchant would: a strict Content-Security-Policy
// (no 'unsafe-inline', no 'unsafe-eval'), with the relay's address filled into the pages.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deliver, gmailReply, sentMail } from './mailbox.mjs';
import { platformApi } from './platforms.mjs';
import { accountApi } from './accounts.mjs';

const SHOP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../demo-site');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.ico': 'image/x-icon' };

/// The directives a merchant needs for Pigeon, added to their own; README lists them.
export function contentSecurityPolicy(relayUrl) {
  const ws = relayUrl.replace(/^http/, 'ws');
  return [
    "default-src 'self'",
    `script-src 'self' ${relayUrl} 'wasm-unsafe-eval'`,
    `connect-src 'self' ${relayUrl} ${ws}`,
    "style-src 'self'",
    // Photos in the chat are shown from blob: URLs (fetched with the conversation's token).
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function serveShop({ port, relayUrl, site }) {
  const csp = contentSecurityPolicy(relayUrl);
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://shop');
    // The shop's customer accounts, signed for Pigeon's signed identity (accounts.mjs).
    if (await accountApi(req, res, url)) return;
    if (url.pathname.startsWith('/api/')) return mailboxApi(req, res, url, relayUrl);
    // The Shopify and WooCommerce pages' carts (tests/harness/platforms.mjs).
    if (await platformApi(req, res, url)) return;
    let rel = decodeURIComponent(url.pathname);
    if (rel === '/mailbox') rel = '/mailbox.html';
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.join(SHOP_DIR, path.normalize(rel));
    if (!file.startsWith(SHOP_DIR + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    const ext = path.extname(file);
    let body = fs.readFileSync(file);
    if (ext === '.html') {
      body = body.toString().replaceAll('{{RELAY}}', relayUrl).replaceAll('{{SITE}}', site);
    }
    res.writeHead(200, {
      'content-type': TYPES[ext] || 'application/octet-stream',
      'content-security-policy': csp,
      'cache-control': 'no-store',
    });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/// The demo mailbox's two calls: the mail the relay sent, and an answer to one of them
/// (composed as a mail client would, quote included, and delivered to the relay).
async function mailboxApi(req, res, url, relayUrl) {
  const reply = (status, value) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(value)); };
  try {
    if (req.method === 'GET' && url.pathname === '/api/mail') return reply(200, await sentMail(relayUrl));
    if (req.method === 'POST' && url.pathname === '/api/reply') {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const { sentAt, replyAddress, body } = JSON.parse(raw);
      const mail = (await sentMail(relayUrl)).find((m) => m.sentAt === sentAt && m.replyAddress === replyAddress);
      if (!mail || typeof body !== 'string') return reply(404, { status: 404, text: 'No such mail.' });
      const message = gmailReply({ from: mail.to, to: mail.replyAddress, mail, body });
      return reply(200, await deliver(relayUrl, { from: mail.to, to: mail.replyAddress, raw: message }));
    }
    reply(404, { status: 404, text: 'not found' });
  } catch (e) {
    reply(502, { status: 502, text: String(e) });
  }
}
