// axe-core (WCAG 2.1 A and AA, and axe's best practices) on the shop page with Pigeon, in
// light and dark mode, closed (launcher with a badge) and open (a thread with replies, the
// shared context and the email form): no violation of any impact.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { ShopPage, agent } from './pigeon.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/// Runs axe in the page (through DevTools, so the shop's strict CSP stays as it is) and
/// returns its violations, one line each.
async function violations(page) {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => (await window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  })).violations.map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`));
  return found;
}

for (const colorScheme of ['light', 'dark']) {
  test(`axe finds nothing on the shop with Pigeon, closed and open, ${colorScheme} mode`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    const shop = new ShopPage(page);
    await shop.goto();
    await page.evaluate(() => window.Pigeon('cart', { currency: 'EUR', total: 5999, items: [{ name: 'Trail Runner 2', quantity: 1, unit_price: 5999 }] }));
    await shop.open();
    const { conversation } = await (await shop.send('Do these run small?')).json();
    await expect(shop.message('Do these run small?')).toHaveAttribute('data-delivery', 'sent');
    await page.keyboard.press('Escape');
    await agent.reply(conversation.id, 'They fit true to size. See https://example.com/sizes');
    await expect(page.getByTestId('badge')).toHaveText('1');
    expect(await violations(page)).toEqual([]);

    await shop.open();
    await expect(shop.message('They fit true to size.')).toBeVisible();
    await page.getByTestId('shared').locator('summary').click();
    await page.getByTestId('email-me').click();
    await expect(page.getByTestId('email-input')).toBeVisible();
    expect(await violations(page)).toEqual([]);
  });
}
