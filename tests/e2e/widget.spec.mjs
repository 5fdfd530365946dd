// The widget in a real browser against the real relay: persistence, the outbox, context,
// hostile text, and what happens before the shopper does anything.
import { test, expect } from '@playwright/test';
import { ShopPage, agent, holdRelay, relay } from './pigeon.mjs';

test('before any interaction the page makes one request for Pigeon and touches no storage', async ({ page }) => {
  const pigeonRequests = [];
  page.on('request', (r) => { if (r.url().startsWith(relay())) pigeonRequests.push(r.url()); });
  const shop = new ShopPage(page);
  await shop.goto();
  await expect(shop.launcher).toBeVisible();
  await page.waitForTimeout(1500); // idle time: nothing more may happen
  expect(pigeonRequests).toEqual([`${relay()}/pigeon.js`]);
  const storage = await page.evaluate(async () => ({
    cookie: document.cookie,
    local: localStorage.length,
    session: sessionStorage.length,
    databases: (await indexedDB.databases()).map((d) => d.name),
  }));
  expect(storage).toEqual({ cookie: '', local: 0, session: 0, databases: [] });
  expect(await shop.cspViolations()).toEqual([]);
});

test('the thread survives closing the tab and is shown before any network call', async ({ context }) => {
  const first = new ShopPage(await context.newPage());
  await first.goto();
  await first.open();
  const created = await first.send('Can I return shoes after 30 days?');
  const { conversation } = await created.json();
  await expect(first.message('Can I return shoes after 30 days?')).toHaveAttribute('data-delivery', 'sent');
  await agent.reply(conversation.id, 'Yes, within 60 days.');
  await expect(first.message('Within 60 days'.replace('W', 'w'))).toBeVisible();
  // Screen readers hear the shop's reply through the panel's live region.
  const announce = (tab) => tab.page.getByTestId('announce');
  await expect(announce(first)).toContainText('Yes, within 60 days.');
  await expect(announce(first)).toHaveAttribute('aria-live', 'polite');
  await first.page.close();

  // New tab, same browser profile; the relay's API is held back until the check is done.
  const page = await context.newPage();
  const release = await holdRelay(page);
  const again = new ShopPage(page);
  await again.goto();
  await again.open();
  await expect(again.message('Can I return shoes after 30 days?')).toBeVisible();
  await expect(again.message('Yes, within 60 days.')).toBeVisible();
  await expect(announce(again)).toHaveText('');
  release();
  // And it is live again: a new reply arrives.
  await agent.reply(conversation.id, 'Anything else?');
  await expect(again.message('Anything else?')).toBeVisible();
  await expect(again.messages).toHaveCount(3);
  // Only what arrives now is read out, not the restored history.
  await expect(announce(again)).toHaveText('Ana: Anything else?');
});

test('20 messages typed offline survive closing the tab and are each delivered exactly once', async ({ context, page }) => {
  const shop = new ShopPage(page);
  await shop.goto();
  await shop.open();
  const created = await shop.send('Hello, first message while online');
  const { conversation } = await created.json();
  await expect(shop.message('first message while online')).toHaveAttribute('data-delivery', 'sent');

  await context.setOffline(true);
  await expect(page.getByTestId('offline')).toBeVisible();
  for (let i = 1; i <= 20; i++) {
    await shop.composer.fill(`offline message ${String(i).padStart(2, '0')}`);
    await shop.composer.press('Enter');
  }
  await expect(shop.messages).toHaveCount(21);
  await expect(shop.message('offline message 01')).not.toHaveAttribute('data-delivery', 'sent');
  // The tab is closed while offline: the 20 wait in the IndexedDB outbox. A new tab shows
  // them at once (relay held back), then delivers them when the relay answers again.
  await page.close();
  await context.setOffline(false);
  const next = await context.newPage();
  const release = await holdRelay(next);
  const again = new ShopPage(next);
  await again.goto();
  await again.open();
  await expect(again.messages).toHaveCount(21);
  await expect(next.locator('[data-testid=message][data-delivery=sent]')).toHaveCount(1);
  release();
  await expect(next.locator('[data-testid=message][data-delivery=sent]')).toHaveCount(21, { timeout: 30_000 });
  const stored = await agent.messages(conversation.id);
  expect(stored.map((m) => m.body)).toEqual([
    'Hello, first message while online',
    ...Array.from({ length: 20 }, (_, i) => `offline message ${String(i + 1).padStart(2, '0')}`),
  ]);
  expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
  await expect(again.messages).toHaveCount(21);
});

test('hostile strings in messages, names, cart and page title show as text and run nothing', async ({ page }) => {
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const shop = new ShopPage(page);
  await shop.goto();
  const hostile = `<img src=x onerror="window.__pwned='img'"><script>window.__pwned='script'</script><svg onload="alert(1)">`;
  await page.evaluate((h) => {
    document.title = h;
    window.Pigeon('cart', { currency: 'EUR', total: 100, items: [{ name: h, quantity: 1, unit_price: 100 }] });
  }, hostile);
  await shop.open();
  const created = await shop.send(`${hostile} javascript:alert(1) JaVaScRiPt:alert(2) https://shop.example/ok`);
  const { conversation } = await created.json();
  await expect(shop.messages.first()).toHaveAttribute('data-delivery', 'sent');
  await agent.reply(conversation.id, `${hostile} data:text/html,<script>alert(3)</script>`, { authorName: `<b onmouseover=alert(4)>Ana</b>` });

  await expect(shop.messages).toHaveCount(2);
  await expect(shop.messages.first()).toContainText(`<script>window.__pwned='script'</script>`);
  await expect(shop.messages.nth(1)).toContainText('<b onmouseover=alert(4)>Ana</b>');
  await page.getByTestId('shared').click();
  await expect(page.getByTestId('shared-page')).toHaveText(hostile);
  await expect(page.getByTestId('shared-cart')).toContainText(hostile);

  const panel = page.getByTestId('panel');
  expect(await panel.locator('img, script, svg, b').count()).toBe(0);
  const links = await panel.locator('a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.getAttribute('rel')]));
  expect(links).toEqual([['https://shop.example/ok', 'noopener noreferrer']]);
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  expect(dialogs).toEqual([]);
  expect(await shop.cspViolations()).toEqual([]);
});

test('the shared context shows page and cart before sending, and travels with the message', async ({ page }) => {
  const shop = new ShopPage(page);
  await shop.goto();
  await page.getByTestId('add-to-cart').click();
  await page.getByTestId('add-to-cart').click();
  await shop.open();
  await page.getByTestId('shared').click();
  await expect(page.getByTestId('shared-page')).toHaveText('Trail Runner 2 – Pigeon Outfitters');
  await expect(page.getByTestId('shared-cart')).toContainText('2 × Trail Runner 2 (size 42)');
  await expect(page.getByTestId('shared-cart')).toContainText('€119.98');
  const created = await shop.send('Is shipping free for two pairs?');
  const { conversation } = await created.json();
  await expect(shop.message('Is shipping free for two pairs?')).toHaveAttribute('data-delivery', 'sent');
  const [stored] = await agent.messages(conversation.id);
  expect(stored.context.cart).toEqual({ currency: 'EUR', total: 11998, items: [{ id: 'trail-runner-2-42', name: 'Trail Runner 2 (size 42)', quantity: 2, unit_price: 5999 }] });
});

test("an agent reply while the panel is closed shows a badge; Pigeon('forget') erases the thread everywhere", async ({ page }) => {
  const shop = new ShopPage(page);
  await shop.goto();
  await shop.open();
  const created = await shop.send('Please delete my data afterwards.');
  const { conversation, token } = await created.json();
  await expect(shop.message('Please delete my data afterwards.')).toHaveAttribute('data-delivery', 'sent');
  await page.keyboard.press('Escape');
  await expect(shop.panel).toBeHidden();
  await agent.reply(conversation.id, 'Sure, use Forget in the menu.');
  await expect(page.getByTestId('badge')).toHaveText('1');
  await shop.open();
  await expect(page.getByTestId('badge')).toBeHidden();

  await page.evaluate(() => window.Pigeon('forget'));
  await expect.poll(async () => (await fetch(`${relay()}/v1/conversations/${conversation.id}/messages`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  await expect.poll(() => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name))).toEqual([]);
});

test('two tabs hold one live socket between them and show identical threads and read state', async ({ context }) => {
  const sockets = [];
  const watch = (page, name) => page.on('websocket', (ws) => { if (ws.url().includes('/live')) sockets.push(name); });
  const a = new ShopPage(await context.newPage());
  watch(a.page, 'a');
  await a.goto();
  await a.open();
  const created = await a.send('Asking from the first tab');
  const { conversation } = await created.json();
  await expect(a.message('Asking from the first tab')).toHaveAttribute('data-delivery', 'sent');

  // The second tab finds the thread in IndexedDB and follows the first tab's socket.
  const b = new ShopPage(await context.newPage());
  watch(b.page, 'b');
  await b.goto();
  await b.open();
  await expect(b.message('Asking from the first tab')).toBeVisible();
  await b.composer.fill('And one from the second tab');
  await b.composer.press('Enter');
  await expect(a.message('And one from the second tab')).toBeVisible();

  await a.page.keyboard.press('Escape');
  await b.page.keyboard.press('Escape');
  await agent.reply(conversation.id, 'Answer for both tabs');
  for (const tab of [a, b]) {
    await expect(tab.page.getByTestId('badge')).toHaveText('1');
  }
  // Reading in one tab clears the badge in the other.
  await b.open();
  await expect(b.message('Answer for both tabs')).toBeVisible();
  await expect(a.page.getByTestId('badge')).toBeHidden();
  const bodies = async (tab) => tab.page.locator('[data-testid=message] .pg-body').allTextContents();
  expect(await bodies(a)).toEqual(await bodies(b));
  expect(sockets).toEqual(['a']);
});
