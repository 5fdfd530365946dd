// Carts without code (issue 18): pages playing a Shopify theme and a WooCommerce shop (their
// cart endpoints answer in the documented shapes: tests/harness/platforms.mjs) carry only
// `data-platform`. The widget's extras read the cart once the shopper opens the panel, and
// again when the page changes it; nothing is fetched before.
import { test, expect } from '@playwright/test';
import { agent, ShopPage } from './pigeon.mjs';

/// Every request `page` makes to the cart endpoints or for the extras module.
function watch(page) {
  const seen = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/cart') || u.pathname.startsWith('/wp-json/') || u.pathname.endsWith('/widget/pigeon_extras.js')) seen.push(`${r.method()} ${u.pathname}`);
  });
  return seen;
}

async function sentContext(shop, text) {
  const created = await shop.send(text);
  const { conversation } = await created.json();
  await expect(shop.message(text)).toHaveAttribute('data-delivery', 'sent');
  return conversation.id;
}

test('Shopify: the AJAX cart is read when the panel opens, in the currency\'s own minor units, and again when it changes', async ({ page }) => {
  const shop = new ShopPage(page);
  const seen = watch(page);
  await shop.goto('/shopify/');
  await page.getByTestId('add-coat').click();
  await expect(page.getByTestId('cart-count')).toHaveText('Cart: 1');
  // Before the shopper opens the chat, Pigeon reads nothing.
  expect(seen).toEqual(['POST /cart/add.js']);

  await shop.open();
  await page.getByTestId('shared').click();
  await expect(page.getByTestId('shared-cart')).toContainText('1 × Red Rain Coat - Small');
  await expect(page.getByTestId('shared-cart')).toContainText('€129.00');
  expect(seen).toContain('GET /widget/pigeon_extras.js');
  expect(seen).toContain('GET /cart.js');
  const id = await sentContext(shop, 'Does the coat run small?');
  let [stored] = await agent.messages(id);
  expect(stored.context.cart).toEqual({
    currency: 'EUR', total: 12900,
    items: [{ id: '39897499729985', name: 'Red Rain Coat - Small', quantity: 1, unit_price: 12900,
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/products\/red-rain-coat\?variant=39897499729985$/),
      image_url: 'https://cdn.shopify.example/files/coat.jpg' }],
  });

  // The theme adds socks (its own POST to /cart/add.js): Pigeon reads the cart again.
  const reads = seen.filter((s) => s === 'GET /cart.js').length;
  await page.getByTestId('add-socks').click();
  await expect.poll(() => seen.filter((s) => s === 'GET /cart.js').length).toBeGreaterThan(reads);
  await expect(page.getByTestId('shared-cart')).toContainText('1 × Wool Socks');
  await shop.composer.fill('And the socks?');
  await shop.composer.press('Enter');
  await expect(shop.message('And the socks?')).toHaveAttribute('data-delivery', 'sent');
  [, stored] = await agent.messages(id);
  expect(stored.context.cart.total).toBe(14150);
  expect(stored.context.cart.items.map((i) => [i.name, i.quantity, i.unit_price, i.image_url ?? null]))
    .toEqual([['Red Rain Coat - Small', 1, 12900, 'https://cdn.shopify.example/files/coat.jpg'], ['Wool Socks', 1, 1250, null]]);

  // Emptied while the panel is closed, by a request whose answer the page never reads (so the
  // browser never reports it): opening the panel again reads the cart again.
  await page.keyboard.press('Escape');
  await expect(shop.panel).toBeHidden();
  await page.evaluate(() => { fetch('/cart/clear.js', { method: 'POST' }); });
  await expect.poll(() => page.evaluate(async () => (await (await fetch('/cart.js')).json()).item_count)).toBe(0);
  await shop.open();
  await expect(page.getByTestId('shared-page')).toBeVisible();
  await expect(page.getByTestId('shared-cart')).toHaveCount(0);
  expect(await shop.cspViolations()).toEqual([]);
  expect(shop.errors).toEqual([]);
});

test('WooCommerce: the Store API cart, its own digits made the currency\'s and its names unescaped', async ({ page }) => {
  const shop = new ShopPage(page);
  const seen = watch(page);
  await shop.goto('/woocommerce/');
  await page.getByTestId('add-beanie').click();
  await page.getByTestId('add-beanie').click();
  await expect(page.getByTestId('cart-count')).toHaveText('Cart: 2');
  expect(seen).toEqual(['POST /wp-json/wc/store/v1/cart/add-item', 'POST /wp-json/wc/store/v1/cart/add-item']);

  await shop.open();
  await page.getByTestId('shared').click();
  await expect(page.getByTestId('shared-cart')).toContainText('2 × Beanie & Scarf – Blue');
  const id = await sentContext(shop, 'Is the beanie machine washable?');
  const [stored] = await agent.messages(id);
  // The store shows whole dollars (currency_minor_unit 0): "18" is 1800 cents.
  expect(stored.context.cart).toMatchObject({ currency: 'USD', total: 3600, items: [{ id: '14', name: 'Beanie & Scarf – Blue', quantity: 2, unit_price: 1800 }] });
  expect(stored.context.cart.items[0].image_url).toMatch(/\/wp-content\/uploads\/beanie-324x324\.jpg$/);

  await page.getByTestId('add-hoodie').click();
  await expect(page.getByTestId('shared-cart')).toContainText('1 × Hoodie');
  expect(shop.errors).toEqual([]);
});

test('a page without data-platform never loads the extras', async ({ page }) => {
  const shop = new ShopPage(page);
  const seen = watch(page);
  await shop.goto('/');
  await shop.open();
  await sentContext(shop, 'Plain page, plain widget.');
  expect(seen.filter((s) => s.includes('pigeon_extras'))).toEqual([]);
});
