// The hostile corpus (tests/corpus/hostile.json: script tags, event handlers, SVG,
// javascript:/data: links in mixed case and entity-encoded, RTL overrides, zero-width joiners,
// 4-byte emoji ...) through every place the widget shows text: shopper messages, agent
// replies, agent names, cart item names, the page title. Each shows as its literal text and
// nothing runs: no dialog, no script or element from the input, no CSP violation.
import fs from 'node:fs';
import { test, expect } from '@playwright/test';
import { ShopPage, agent, agentKey, relay } from './pigeon.mjs';

const corpus = JSON.parse(fs.readFileSync(new URL('../corpus/hostile.json', import.meta.url), 'utf8'));

test(`the hostile corpus (${corpus.length} strings) shows as literal text everywhere and runs nothing`, async ({ page }) => {
  test.setTimeout(180_000);
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const shop = new ShopPage(page);
  await shop.goto();
  // A cart holds at most 100 items of at most 200 characters (a longer one makes the shop's
  // cart call a no-op with a console warning): the corpus goes through it in chunks.
  const itemName = (s) => [...s].slice(0, 200).join('');
  const setCart = (items) => page.evaluate((names) => {
    window.Pigeon('cart', { currency: 'EUR', total: names.length, items: names.map((name) => ({ name, quantity: 1, unit_price: 1 })) });
  }, items);
  await page.evaluate((title) => { document.title = title; }, corpus[0]);
  await setCart(corpus.slice(0, 100).map(itemName));
  await shop.open();
  const created = await shop.send(corpus[1]);
  const { conversation } = await created.json();
  await expect(shop.messages.first()).toHaveAttribute('data-delivery', 'sent');

  // Every string as an agent reply, from an agent named after it (names are at most 80
  // characters), and as a shopper message through the relay's API.
  // A name with control characters (CR, LF, tab) is refused with a clear error and nothing
  // stored; the reply then goes out under a plain name.
  const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
  const nameOf = (s) => [...s].slice(0, 80).join('');
  for (let i = 0; i < corpus.length; i++) {
    let reply = await agent.reply(conversation.id, corpus[i], { clientId: `h-${i}`, authorName: nameOf(corpus[i]) });
    if (CONTROL.test(nameOf(corpus[i]))) {
      expect([reply.status, reply.json.error?.code]).toEqual([422, 'invalid_author_name']);
      reply = await agent.reply(conversation.id, corpus[i], { clientId: `h-${i}`, authorName: 'Ana' });
    }
    expect(reply.status, `${JSON.stringify(corpus[i])}: ${JSON.stringify(reply.json)}`).toBe(201);
  }
  await expect(shop.messages).toHaveCount(corpus.length + 1, { timeout: 60_000 });

  // The text the shopper sees is exactly the stored text: read back from the DOM.
  const shown = await page.evaluate(() => {
    const root = document.querySelector('[data-pigeon]').shadowRoot;
    return [...root.querySelectorAll('[data-testid="message"]')].map((m) => m.textContent);
  });
  // As stored (the relay trims surrounding whitespace, nothing else).
  const res = await fetch(`${relay()}/v1/agent/conversations/${conversation.id}/messages?limit=500`, { headers: { authorization: `Bearer ${agentKey()}` } });
  const stored = (await res.json()).messages;
  expect(stored).toHaveLength(corpus.length + 1);
  for (let i = 0; i < corpus.length; i++) {
    const text = shown[i + 1];
    expect(corpus[i].includes(stored[i + 1].body) && stored[i + 1].body.trim() === corpus[i].trim(), JSON.stringify(corpus[i])).toBe(true);
    expect(text.includes(stored[i + 1].body), `body ${i}: ${JSON.stringify(corpus[i])} in ${JSON.stringify(text)}`).toBe(true);
    if (!CONTROL.test(nameOf(corpus[i]))) expect(text.includes(nameOf(corpus[i]).trim()), `name ${i}: ${JSON.stringify(corpus[i])}`).toBe(true);
  }
  await page.getByTestId('shared').click();
  await expect(page.getByTestId('shared-page')).toHaveText(corpus[0]);
  for (let start = 0; start < corpus.length; start += 100) {
    const chunk = corpus.slice(start, start + 100).map(itemName);
    if (start > 0) await setCart(chunk);
    const cartText = () => page.getByTestId('shared-cart').evaluate((e) => e.textContent);
    await expect.poll(async () => (await cartText()).includes(chunk[chunk.length - 1])).toBe(true);
    const cart = await cartText();
    for (const s of chunk) expect(cart.includes(s), JSON.stringify(s)).toBe(true);
  }

  // Nothing from the input became markup, ran, or broke the policy.
  const panel = page.getByTestId('panel');
  const shownText = panel.locator('[data-testid="message"], [data-testid="shared-cart"], [data-testid="shared-page"]');
  expect(await shownText.count()).toBe(corpus.length + 3);
  const markup = 'script, img, svg, iframe, object, embed, video, audio, style, form, input, textarea, select, b, marquee, details, math, base, meta, link, div, source';
  expect(await shownText.locator(markup).count()).toBe(0);
  expect(await panel.locator('script, img, iframe, object, embed').count()).toBe(0);
  const hrefs = await panel.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  for (const href of hrefs) expect(/^(https?:|mailto:)/i.test(href), href).toBe(true);
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  expect(await page.evaluate(() => document.querySelectorAll('script').length)).toBeLessThanOrEqual(2);
  expect(dialogs).toEqual([]);
  expect(await shop.cspViolations()).toEqual([]);
  expect(shop.errors).toEqual([]);
});
