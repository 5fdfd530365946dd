// The demo shop's customer accounts, as a shop's own server would have them: who is signed
// in (a cookie), and the signature for Pigeon's signed identity, made on the server with the
// site's identity secret. `signCustomer` is the Node snippet README documents, as is.
import crypto from 'node:crypto';

/// The demo site's identity secret (seeded by tests/harness/stack.mjs; an owner can make a
/// new one in the inbox's Settings, and the demo shop then signs with a stale one).
export const DEMO_IDENTITY_SECRET = 'pgn_id_demo-identity-secret-for-local-use-only';

export const DEMO_CUSTOMERS = {
  ada: { id: 'cust_1001', email: 'ada@example.com', name: 'Ada Lovelace' },
  ben: { id: 'cust_1002', email: 'ben@example.com', name: 'Ben Okafor' },
};

// README: "Node.js"
export function signCustomer(secret, customerId) {
  return crypto.createHmac('sha256', secret).update(customerId, 'utf8').digest('hex');
}

/// What the shop's pages pass to `Pigeon('identify', ...)` for the signed-in customer.
export function identity(name, secret = DEMO_IDENTITY_SECRET) {
  const c = DEMO_CUSTOMERS[name];
  return c ? { ...c, signature: signCustomer(secret, c.id) } : null;
}

function signedIn(req) {
  const m = /(?:^|;\s*)demo_customer=(\w+)/.exec(req.headers.cookie || '');
  return m && DEMO_CUSTOMERS[m[1]] ? m[1] : null;
}

/// `GET /api/account`: `{customer}` (null when signed out). `POST /api/account` `{as}` signs
/// in as `ada` or `ben`, or out with `null`. True if the request was this API's.
export async function accountApi(req, res, url) {
  if (url.pathname !== '/api/account') return false;
  let name = signedIn(req);
  const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (req.method === 'POST') {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let as;
    try { as = JSON.parse(raw).as; } catch { as = undefined; }
    if (as !== null && !DEMO_CUSTOMERS[as]) {
      res.writeHead(422, headers);
      res.end(JSON.stringify({ error: 'as is ada, ben or null' }));
      return true;
    }
    name = as;
    headers['set-cookie'] = name ? `demo_customer=${name}; Path=/; SameSite=Lax` : 'demo_customer=; Path=/; Max-Age=0; SameSite=Lax';
  }
  res.writeHead(200, headers);
  res.end(JSON.stringify({ customer: identity(name) }));
  return true;
}
