// A conversation's life in the widget (issue 17), against the real relay: a close says so in
// the chat with "start a new conversation"; a close that asks for a rating gets it in a tap,
// once; a new conversation follows the held one, which stays readable (read only) under
// "Earlier conversations"; forgetting erases both on the relay. On a 375 px phone, light and
// dark, with axe on the panel.
import { test, expect } from '@playwright/test';
import { ShopPage, agentKey, relay } from './pigeon.mjs';
import { axeLightAndDark } from './inbox-helpers.mjs';

async function close(conversation, body) {
  const r = await fetch(`${relay()}/v1/agent/conversations/${conversation}/close`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agentKey()}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(r.status, await r.text()).toBe(204);
}

/// The session this browser holds for the demo site (the widget's IndexedDB).
async function held(page) {
  return page.evaluate(() => new Promise((done, fail) => {
    const open = indexedDB.open('pigeon:demo', 1);
    open.onerror = fail;
    open.onsuccess = () => {
      const kv = open.result.transaction('kv').objectStore('kv');
      const session = kv.get('session');
      const earlier = kv.get('earlier');
      kv.transaction.oncomplete = () => { done({ session: session.result, earlier: earlier.result || [] }); open.result.close(); };
    };
  }));
}

test('closed: the chat says so and rates in a tap, once; a new conversation follows; the earlier one reads only; forget erases both', async ({ browser }) => {
  const shopper = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const shop = new ShopPage(await shopper.newPage());
  await shop.goto();
  await shop.open();
  const { conversation, token } = await (await shop.send('The strap of my bag came loose.')).json();
  await expect(shop.message('The strap of my bag came loose.')).toHaveAttribute('data-delivery', 'sent');

  // Closed with a rating asked: the banner, and the rating under the thread.
  await close(conversation.id, { ask_rating: true });
  const life = shop.page.getByTestId('lifecycle');
  await expect(life.getByTestId('closed-banner')).toContainText('This conversation is closed. Write below to reopen it, or start a new conversation.', { timeout: 15_000 });
  const form = life.getByTestId('rate-form');
  await expect(form).toBeVisible();
  // Sending without a choice says what is missing and sends nothing.
  await form.getByTestId('rate-send').click();
  await expect(life.getByTestId('rate-error')).toHaveText('Choose how happy you are first.');
  await form.getByRole('button', { name: '5 – very happy' }).click();
  await expect(form.getByTestId('rate-s-5')).toHaveAttribute('aria-pressed', 'true');
  await form.getByRole('button', { name: '1 – very easy' }).click();
  await form.getByTestId('rate-comment').fill('Fixed in one message.');
  await shop.page.screenshot({ path: test.info().outputPath('widget-rating-phone.png') });
  expect(await axeLightAndDark(shop.page, '[data-pigeon]')).toEqual([]);
  await shop.page.screenshot({ path: test.info().outputPath('widget-rating-phone-dark.png') });
  await shop.page.emulateMedia({ colorScheme: 'light' });
  await form.getByTestId('rate-send').click();
  await expect(life.getByTestId('rate-thanks')).toHaveText('Thanks for your rating!');
  await expect(life.getByTestId('rate-thanks')).toBeFocused();
  const state = await (await fetch(`${relay()}/v1/conversations/${conversation.id}/rating`, { headers: { authorization: `Bearer ${token}`, origin: process.env.PIGEON_SHOP } })).json();
  expect([state.asked, state.status, state.rated.satisfaction, state.rated.effort, state.rated.comment]).toEqual([false, 'closed', 5, 1, 'Fixed in one message.']);

  // After a reload: still closed, no second rating asked.
  await shop.page.reload();
  await shop.open();
  await expect(life.getByTestId('closed-banner')).toBeVisible({ timeout: 15_000 });
  await expect(life.getByTestId('rate-form')).toHaveCount(0);

  // A new conversation: the old one goes to "Earlier conversations"; the thread starts anew.
  await life.getByTestId('new-conversation').click();
  await expect(shop.message('A new conversation with Pigeon Outfitters')).toBeVisible({ timeout: 15_000 });
  await expect(shop.message('The strap of my bag came loose.')).toHaveCount(0);
  await expect(life.getByTestId('closed-banner')).toHaveCount(0);
  const now = await held(shop.page);
  expect(now.session.id).not.toBe(conversation.id);
  expect(now.earlier.map((e) => e.id)).toEqual([conversation.id]);
  await shop.composer.fill('And the buckle too, sorry.');
  await shop.composer.press('Enter');
  await expect(shop.message('And the buckle too, sorry.')).toHaveAttribute('data-delivery', 'sent');
  const second = await (await fetch(`${relay()}/v1/agent/conversations/${now.session.id}/messages`, { headers: { authorization: `Bearer ${agentKey()}` } })).json();
  expect(second.messages.map((m) => m.body)).toContain('And the buckle too, sorry.');

  // The earlier one, read only, over the panel; Back returns to the opener.
  await life.getByTestId('earlier-conversations').locator('summary').click();
  const opener = life.getByTestId('earlier-open');
  await opener.click();
  const view = shop.page.getByTestId('earlier-view');
  await expect(view.getByTestId('earlier-message').filter({ hasText: 'The strap of my bag came loose.' })).toBeVisible();
  await expect(view.locator('textarea')).toHaveCount(0);
  // A modal view: the panel behind it is out of reach until Back.
  await expect(view).toHaveAttribute('role', 'dialog');
  await expect(shop.page.locator('.pg-composer')).toHaveAttribute('inert', '');
  await shop.page.screenshot({ path: test.info().outputPath('widget-earlier-phone.png') });
  expect(await axeLightAndDark(shop.page, '[data-pigeon]')).toEqual([]);
  await shop.page.emulateMedia({ colorScheme: 'light' });
  await view.getByTestId('earlier-back').click();
  await expect(view).toHaveCount(0);
  await expect(opener).toBeFocused();
  await expect(shop.page.locator('.pg-composer')).not.toHaveAttribute('inert', '');

  // Forget: both conversations are erased on the relay.
  await shop.page.evaluate(() => window.Pigeon('forget'));
  for (const id of [conversation.id, now.session.id]) {
    await expect.poll(async () => (await fetch(`${relay()}/v1/agent/conversations/${id}/messages`, { headers: { authorization: `Bearer ${agentKey()}` } })).status, { timeout: 15_000 }).toBe(404);
  }
  expect(shop.errors).toEqual([]);
  await shopper.close();
});

test('a plain close shows the banner without a rating; writing again reopens it', async ({ browser }) => {
  const shopper = await browser.newContext();
  const shop = new ShopPage(await shopper.newPage());
  await shop.goto();
  await shop.open();
  const { conversation } = await (await shop.send('Do you ship to Norway?')).json();
  await expect(shop.message('Do you ship to Norway?')).toHaveAttribute('data-delivery', 'sent');
  await close(conversation.id, {});
  await expect(shop.message('closed this conversation; just write again to reopen it.')).toHaveAttribute('data-author', 'system', { timeout: 15_000 });
  const life = shop.page.getByTestId('lifecycle');
  await expect(life.getByTestId('closed-banner')).toBeVisible();
  await expect(life.getByTestId('rate-form')).toHaveCount(0);
  await shop.page.screenshot({ path: test.info().outputPath('widget-closed-desktop.png') });
  await shop.composer.fill('One more thing: and to Iceland?');
  await shop.composer.press('Enter');
  await expect(shop.message('One more thing: and to Iceland?')).toHaveAttribute('data-delivery', 'sent');
  await expect(life.getByTestId('closed-banner')).toHaveCount(0, { timeout: 15_000 });
  expect(shop.errors).toEqual([]);
  await shopper.close();
});
