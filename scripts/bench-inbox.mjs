// The merchant's inbox, measured against the real relay in headless Chromium (Playwright +
// the DevTools protocol) and with Node clients for the live paths. Medians over several runs.
//   node scripts/bench-inbox.mjs [--runs N]     prints rows, writes target/bench/inbox.json
// - sign-in link opened → the list's first page (50 rows, the inbox's page) rendered, 1,000
//   conversations on the site, CPU 4x;
// - click on a 1,000-message conversation → its newest message rendered (the thread opens on
//   the newest 100), CPU 4x;
// - shopper message POSTed → its frame on the inbox's socket; inbox reply POSTed → its frame on
//   the shopper's socket: p50/p99 over 200 each, one at a time.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from '@playwright/test';
import WebSocket from 'ws';
import { startStack, ROOT } from '../tests/harness/stack.mjs';
import { inboxCookie, signinLink } from '../tests/harness/mailbox.mjs';
import { median } from './bench-page.mjs';

const arg = (name, dflt) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);
const OWNER = 'owner@pigeon-outfitters.test';
const stat = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length });
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };

async function api(relay, method, p, body, headers = {}) {
  const res = await fetch(relay + p, { method, headers: { 'content-type': 'application/json', ...headers }, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function conversation(relay, messages) {
  const c = await api(relay, 'POST', '/v1/sites/demo/conversations', {});
  const auth = { authorization: `Bearer ${c.token}` };
  for (let i = 0; i < messages; i += 8) {
    await Promise.all(Array.from({ length: Math.min(8, messages - i) }, (_, k) =>
      api(relay, 'POST', `/v1/conversations/${c.conversation.id}/messages`, { client_id: `b${i + k}`, body: `Message ${i + k + 1}: does the Trail Runner 2 run small?`,
        context: { page: { url: 'https://shop.example/trail-runner', title: 'Trail Runner 2' }, cart: { currency: 'EUR', total: 8990, items: [{ name: 'Trail Runner 2', quantity: 1, unit_price: 8990 }] } } }, auth)));
  }
  return { id: c.conversation.id, token: c.token };
}

function socket(url, headers) {
  const ws = new WebSocket(url, { headers });
  const waiting = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data));
    for (const w of waiting.splice(0)) if (!w.test(frame)) waiting.push(w); else w.resolve(performance.now());
  });
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, next: (test) => new Promise((r) => waiting.push({ test, resolve: r })) }));
    ws.on('error', reject);
  });
}

export async function benchInbox({ runs = 5 } = {}) {
  const stack = await startStack({ vars: { RATE_LIMITS: 'off' }, quiet: true });
  const relay = stack.relayUrl;
  try {
    console.log('  seeding 1,000 conversations and one of 1,000 messages …');
    const long = await conversation(relay, 1000);
    for (let i = 0; i < 999; i += 16) await Promise.all(Array.from({ length: Math.min(16, 999 - i) }, () => conversation(relay, 1)));
    // The long one is the newest, so it is in the first page of the list.
    await api(relay, 'POST', `/v1/conversations/${long.id}/messages`, { client_id: 'newest', body: 'And one more.' }, { authorization: `Bearer ${long.token}` });
    await new Promise((r) => setTimeout(r, 3000)); // the index is written in batches

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    const list = [], thread = [];
    for (let run = 0; run < runs; run++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      await page.goto(await signinLink(relay, OWNER));
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-row"]').length >= 50, null, { timeout: 60_000 });
      list.push(await page.evaluate(() => performance.now()));
      thread.push(await page.evaluate((id) => new Promise((resolve) => {
        const t0 = performance.now();
        document.querySelector(`[data-testid="conversation-row"][data-id="${id}"]`).click();
        const newest = () => document.querySelector('[data-testid="thread-message"][data-seq="1001"]');
        const check = () => (newest() ? resolve(performance.now() - t0) : requestAnimationFrame(check));
        check();
      }), long.id));
      await context.close();
    }
    await browser.close();

    // Live paths, one message at a time.
    const auth = await inboxCookie(relay, OWNER);
    const wsBase = relay.replace('http', 'ws');
    const inbox = await socket(`${wsBase}/v1/inbox/sites/demo/live`, { cookie: auth, origin: relay });
    const shopper = await conversation(relay, 0);
    const panel = await socket(`${wsBase}/v1/conversations/${shopper.id}/live`, {});
    panel.ws.send(JSON.stringify({ type: 'hello', token: shopper.token, after: 0 }));
    await panel.next((f) => f.type === 'ready');
    const toInbox = [], toShopper = [];
    for (let i = 0; i < 200; i++) {
      const seen = inbox.next((f) => f.type === 'message' && f.message.client_id === `s${i}`);
      const t0 = performance.now();
      await api(relay, 'POST', `/v1/conversations/${shopper.id}/messages`, { client_id: `s${i}`, body: `question ${i}` }, { authorization: `Bearer ${shopper.token}` });
      toInbox.push((await seen) - t0);
      const got = panel.next((f) => f.type === 'message' && f.message.client_id === `r${i}`);
      const t1 = performance.now();
      await api(relay, 'POST', `/v1/inbox/conversations/${shopper.id}/messages`, { client_id: `r${i}`, body: `answer ${i}` }, { cookie: auth, origin: relay });
      toShopper.push((await got) - t1);
    }
    inbox.ws.close();
    panel.ws.close();
    return {
      list_1000_cpu4x_ms: stat(list),
      thread_1000_cpu4x_ms: stat(thread),
      shopper_to_inbox_ms: { p50: pct(toInbox, 50), p99: pct(toInbox, 99), samples: toInbox.length },
      inbox_to_shopper_ms: { p50: pct(toShopper, 50), p99: pct(toShopper, 99), samples: toShopper.length },
    };
  } finally {
    await stack.stop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const result = await benchInbox({ runs: arg('--runs', 5) });
  fs.mkdirSync(path.join(ROOT, 'target/bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'target/bench/inbox.json'), JSON.stringify(result, null, 2));
  const ms = (s) => `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  console.log(`sign-in link → list of 1,000 shown (CPU 4x): ${ms(result.list_1000_cpu4x_ms)}`);
  console.log(`open a 1,000-message conversation (CPU 4x): ${ms(result.thread_1000_cpu4x_ms)}`);
  console.log(`shopper message → inbox: p50 ${result.shopper_to_inbox_ms.p50.toFixed(1)} ms, p99 ${result.shopper_to_inbox_ms.p99.toFixed(1)} ms`);
  console.log(`inbox reply → shopper: p50 ${result.inbox_to_shopper_ms.p50.toFixed(1)} ms, p99 ${result.inbox_to_shopper_ms.p99.toFixed(1)} ms`);
  process.exit(0);
}
