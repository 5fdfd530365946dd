// Serves demo-site/ the way a careful merchant would: a strict Content-Security-Policy
// (no 'unsafe-inline', no 'unsafe-eval'), with the relay's address filled into the pages.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function serveShop({ port, relayUrl, site }) {
  const csp = contentSecurityPolicy(relayUrl);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://shop');
    let rel = decodeURIComponent(url.pathname);
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
