// Faults: a shopper sends 100 messages while the relay process is killed and restarted at
// random moments and the browser's network drops twice, and the shop answers ten times
// meanwhile. Every message is stored exactly once, in the order it was written, and the
// shopper sees every one of them, the shop's replies included, once and in order. Runs on a
// relay of its own.
import { test, expect } from '@playwright/test';
import { startStack } from '../harness/stack.mjs';

const N = 100;
const REPLIES = 10;

/// The shop's reply `k`, sent until the relay stores it (same client_id on every try).
async function reply(stack, conversation, k) {
  for (;;) {
    try {
      const res = await fetch(`${stack.relayUrl}/v1/agent/conversations/${conversation}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.agentKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: `fault-reply-${k}`, body: `shop reply ${k}`, author_name: 'Ana' }),
      });
      if (res.status === 200 || res.status === 201) return;
    } catch { /* the relay is down: try again */ }
    await new Promise((r) => setTimeout(r, 300));
  }
}

test(`${N} messages through relay crashes and network drops: each stored once, in order, shown once`, async ({ browser }) => {
  test.setTimeout(360_000);
  const stack = await startStack();
  try {
    let seed = Date.now() % 2147483647;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    // Three crashes and two network drops at random points of the run.
    const crashes = new Set(Array.from({ length: 3 }, () => 5 + Math.floor(random() * (N - 10))));
    const drops = new Set(Array.from({ length: 2 }, () => 5 + Math.floor(random() * (N - 10))));
    console.log(`seed-derived schedule: crashes at ${[...crashes]}, drops at ${[...drops]}`);

    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // Which path carried each message: the live socket (`send` frames) or a POST.
    const viaSocket = new Set();
    let posts = 0;
    page.on('websocket', (ws) => ws.on('framesent', (f) => {
      const frame = JSON.parse(f.payload);
      if (frame.type === 'send') viaSocket.add(frame.client_id);
    }));
    page.on('request', (r) => { if (r.method() === 'POST' && /\/messages$/.test(r.url())) posts += 1; });
    await page.goto(`${stack.shopUrl}/`);
    await page.getByTestId('launcher').click();
    const composer = page.getByTestId('composer');
    const faults = [];
    let conversation, created;
    for (let i = 0; i < N; i++) {
      if (i === 1) conversation = (await (await created).json()).conversation.id;
      if (i % 10 === 5) faults.push(reply(stack, conversation, (i - 5) / 10));
      if (crashes.has(i)) faults.push(stack.restartRelay({ downMs: Math.floor(random() * 2000) }));
      if (drops.has(i)) {
        await context.setOffline(true);
        faults.push(new Promise((r) => setTimeout(r, 1000 + random() * 2000)).then(() => context.setOffline(false)));
      }
      if (i === 0) created = page.waitForResponse((r) => r.url().endsWith('/conversations') && r.request().method() === 'POST');
      await composer.fill(`fault test message ${i}`);
      await composer.press('Enter');
      await page.waitForTimeout(20 + random() * 80);
    }
    await Promise.all(faults);
    await context.setOffline(false);

    const sent = page.locator('[data-testid="message"][data-author="shopper"][data-delivery="sent"]');
    await expect(sent).toHaveCount(N, { timeout: 240_000 });
    // Between the faults the widget sends over its live socket; POST covers the rest.
    console.log(`sent over the live socket: ${viaSocket.size} messages; POSTs: ${posts}`);
    expect(viaSocket.size).toBeGreaterThan(0);

    // Stored exactly once each, gap-free, the shopper's in the order written.
    const auth = { authorization: `Bearer ${stack.agentKey}` };
    const list = await (await fetch(`${stack.relayUrl}/v1/agent/sites/${stack.site}/conversations?status=open`, { headers: auth })).json();
    expect(list.conversations).toHaveLength(1);
    expect(list.conversations[0].id).toBe(conversation);
    const stored = (await (await fetch(`${stack.relayUrl}/v1/agent/conversations/${conversation}/messages?limit=500`, { headers: auth })).json()).messages;
    const expected = Array.from({ length: N }, (_, i) => `fault test message ${i}`);
    expect(stored.filter((m) => m.author === 'shopper').map((m) => m.body)).toEqual(expected);
    // The replies were sent concurrently (each retried through the outages): each once, in any order.
    expect(stored.filter((m) => m.author === 'agent').map((m) => m.body).sort()).toEqual(Array.from({ length: REPLIES }, (_, k) => `shop reply ${k}`).sort());
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: N + REPLIES }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => m.client_id)).size).toBe(N + REPLIES);

    // The shopper sees all of it once each, in seq order, and still so after a reload.
    const all = stored.map((m) => [m.body, String(m.seq)]);
    const shown = () => page.evaluate(() => [...document.querySelector('[data-pigeon]').shadowRoot
      .querySelectorAll('[data-testid="message"]')].map((m) => [m.querySelector('.pg-body').textContent, m.getAttribute('data-seq')]));
    await expect.poll(shown, { timeout: 60_000 }).toEqual(all);
    await page.reload();
    await page.getByTestId('launcher').click();
    // A restored thread opens on its newest 50; the rest come on request, same order.
    await expect(page.getByTestId('message')).toHaveCount(50);
    expect(await shown()).toEqual(all.slice(all.length - 50));
    while (await page.getByTestId('earlier').isVisible()) await page.getByTestId('earlier').click();
    await expect(page.getByTestId('message')).toHaveCount(N + REPLIES);
    expect(await shown()).toEqual(all);
    expect(errors).toEqual([]);
    await context.close();
  } finally {
    await stack.stop();
  }
});
