// Shopper message to Web Push delivered, against the real relay (workerd) and a real push
// receiver on this machine (`web-push-testing`, which checks the VAPID signature and decrypts
// the body): the time from posting a shopper's message to its push arriving, one at a time.
//   node scripts/bench-push.mjs [--messages N]   prints p50/p99, writes target/bench/push.json
//
// The site's push delay is set to 0 for this, so the figure is the relay's own path (the
// conversation's alarm, the team and device lookups in D1, the hub asked who is looking, the
// RFC 8291 encryption and VAPID signature, the request to the push service). In production
// the site's delay (10 s by default) comes before it.
import fs from 'node:fs';
import path from 'node:path';
import { startStack, ROOT } from '../tests/harness/stack.mjs';
import { inboxCookie } from '../tests/harness/mailbox.mjs';
import { startPushService } from '../tests/harness/push.mjs';

const arg = (name, dflt) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);
const OWNER = 'owner@pigeon-outfitters.test';
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };

async function call(relay, method, p, body, headers = {}) {
  const res = await fetch(relay + p, { method, headers: { 'content-type': 'application/json', ...headers }, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export async function benchPush({ messages = 60 } = {}) {
  const persistTo = fs.mkdtempSync(path.join(ROOT, 'target', 'pigeon-push-'));
  const stack = await startStack({ persistTo, vars: { RATE_LIMITS: 'off' }, quiet: true });
  const relay = stack.relayUrl;
  const push = await startPushService();
  try {
    const cookie = await inboxCookie(relay, OWNER);
    const inbox = { cookie, origin: relay };
    const { settings } = await call(relay, 'GET', '/v1/inbox/sites/demo/settings', null, inbox);
    await call(relay, 'PUT', '/v1/inbox/sites/demo/settings', { ...settings, push_delay_seconds: 0, email_delay_seconds: 86_400 }, inbox);
    const { public_key } = await call(relay, 'GET', '/v1/inbox/push', null, inbox);
    const device = await push.subscribe(public_key);
    await call(relay, 'POST', '/v1/inbox/push/subscriptions', { endpoint: device.endpoint, keys: device.keys }, inbox);

    const times = [];
    for (let i = 0; i < messages + 5; i++) {
      const c = await call(relay, 'POST', '/v1/sites/demo/conversations', {});
      const before = push.seen.length;
      const t0 = Date.now();
      await call(relay, 'POST', `/v1/conversations/${c.conversation.id}/messages`, { client_id: `p${i}`, body: `Is order ${i} on its way?` }, { authorization: `Bearer ${c.token}` });
      const start = Date.now();
      while (push.seen.length === before || !push.seen.at(-1).ok) {
        if (Date.now() - start > 30_000) throw new Error(`no push for message ${i} within 30 s`);
        await new Promise((r) => setTimeout(r, 2));
      }
      if (i >= 5) times.push(push.seen.at(-1).at - t0); // the first few warm the isolate
    }
    const delivered = await push.messages(device.clientHash);
    if (delivered.length !== messages + 5) throw new Error(`decrypted ${delivered.length} pushes, sent ${messages + 5} messages`);
    return { messages, p50_ms: pct(times, 50), p99_ms: pct(times, 99), max_ms: Math.max(...times), push_delay_seconds: 0 };
  } finally {
    await push.close();
    await stack.stop();
    fs.rmSync(persistTo, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const result = await benchPush({ messages: arg('--messages', 60) });
  fs.mkdirSync(path.join(ROOT, 'target/bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'target/bench/push.json'), JSON.stringify(result, null, 2));
  console.log(`shopper message to push delivered (push delay 0): p50 ${result.p50_ms.toFixed(1)} ms, p99 ${result.p99_ms.toFixed(1)} ms, max ${result.max_ms} ms (${result.messages} messages)`);
  process.exit(0);
}
