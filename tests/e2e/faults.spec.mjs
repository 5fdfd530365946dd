// Faults: a shopper sends 100 messages while the relay process is killed and restarted at
// random moments and the browser's network drops twice. Every message is stored exactly
// once, in the order it was written, and shown once. Runs on a relay of its own.
import { test, expect } from '@playwright/test';
import { startStack } from '../harness/stack.mjs';

const N = 100;

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
    await page.goto(`${stack.shopUrl}/`);
    await page.getByTestId('launcher').click();
    const composer = page.getByTestId('composer');
    const faults = [];
    for (let i = 0; i < N; i++) {
      if (crashes.has(i)) faults.push(stack.restartRelay({ downMs: Math.floor(random() * 2000) }));
      if (drops.has(i)) {
        await context.setOffline(true);
        faults.push(new Promise((r) => setTimeout(r, 1000 + random() * 2000)).then(() => context.setOffline(false)));
      }
      await composer.fill(`fault test message ${i}`);
      await composer.press('Enter');
      await page.waitForTimeout(20 + random() * 80);
    }
    await Promise.all(faults);
    await context.setOffline(false);

    const sent = page.locator('[data-testid="message"][data-delivery="sent"]');
    await expect(sent).toHaveCount(N, { timeout: 240_000 });

    // Stored exactly once each, gap-free, in the order written.
    const auth = { authorization: `Bearer ${stack.agentKey}` };
    const list = await (await fetch(`${stack.relayUrl}/v1/agent/sites/${stack.site}/conversations?status=open`, { headers: auth })).json();
    expect(list.conversations).toHaveLength(1);
    const id = list.conversations[0].id;
    const stored = (await (await fetch(`${stack.relayUrl}/v1/agent/conversations/${id}/messages?limit=500`, { headers: auth })).json()).messages;
    const expected = Array.from({ length: N }, (_, i) => `fault test message ${i}`);
    expect(stored.map((m) => m.body)).toEqual(expected);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => m.client_id)).size).toBe(N);

    // Shown once each, in the same order, and still so after a reload from IndexedDB.
    const shown = () => page.evaluate(() => [...document.querySelector('[data-pigeon]').shadowRoot
      .querySelectorAll('[data-testid="message"]')].map((m) => [m.querySelector('.pg-body').textContent, m.getAttribute('data-seq')]));
    expect(await shown()).toEqual(expected.map((body, i) => [body, String(i + 1)]));
    await page.reload();
    await page.getByTestId('launcher').click();
    // A restored thread opens on its newest 50; the rest come on request, same order.
    await expect(page.getByTestId('message')).toHaveCount(50);
    expect(await shown()).toEqual(expected.map((body, i) => [body, String(i + 1)]).slice(N - 50));
    await page.getByTestId('earlier').click();
    await expect(page.getByTestId('message')).toHaveCount(N);
    await expect(page.getByTestId('earlier')).toBeHidden();
    expect(await shown()).toEqual(expected.map((body, i) => [body, String(i + 1)]));
    expect(errors).toEqual([]);
    await context.close();
  } finally {
    await stack.stop();
  }
});
