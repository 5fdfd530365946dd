// Signed identity (issue 18) in Chromium against the real relay: the demo shop's server signs
// its signed-in customer's id (tests/harness/accounts.mjs: Node's crypto, README's snippet),
// the page calls Pigeon('identify', ...). A customer's conversation follows them to a second
// browser; a forged signature attaches nothing; signing out clears the browser's thread and
// leaves the conversation on the relay; the inbox shows the verified customer.
import { test, expect } from '@playwright/test';
import { agent, relay, ShopPage, site } from './pigeon.mjs';
import { axeLightAndDark, signIn } from './inbox-helpers.mjs';

const OWNER = 'owner@pigeon-outfitters.test';
const row = (page, id) => page.locator(`[data-testid="conversation-row"][data-id="${id}"]`);

/// Waits for the extras' next identify call on `page`; resolves with its status.
function identifyCall(page) {
  return page.waitForResponse((r) => r.url().endsWith(`/v1/sites/${site()}/identify`) && r.request().method() === 'POST').then((r) => r.status());
}

/// Does the browser of `page` hold a thread for the site (its IndexedDB database)?
function holdsThread(page) {
  return page.evaluate((name) => indexedDB.databases().then((l) => l.some((d) => d.name === name)), `pigeon:${site()}`);
}

/// The id of the conversation the browser of `page` holds (the widget's stored session).
function heldConversation(page) {
  return page.evaluate((name) => new Promise((resolve, reject) => {
    const open = indexedDB.open(name);
    open.onerror = reject;
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('kv')) { db.close(); return resolve(null); }
      const get = db.transaction('kv').objectStore('kv').get('session');
      get.onsuccess = () => { db.close(); resolve(get.result ? get.result.id : null); };
      get.onerror = reject;
    };
  }), `pigeon:${site()}`);
}

/// The demo shop's server signs `as` in, and the page tells Pigeon (as a shop that never
/// calls `Pigeon('identify', null)` between two customers would).
function signInAs(page, as) {
  return page.evaluate(async (as) => {
    const r = await fetch('/api/account', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ as }) });
    Pigeon('identify', (await r.json()).customer);
  }, as);
}

test('a signed-in customer finds their conversation in a second browser; signing out clears it there', async ({ browser }) => {
  // Laptop: Ada signs in to the shop, then asks.
  const laptop = await browser.newContext();
  const a = new ShopPage(await laptop.newPage());
  await a.goto();
  await a.page.getByRole('button', { name: 'Sign in as Ada' }).click();
  await expect(a.page.getByTestId('account')).toContainText('Signed in as Ada Lovelace');
  await a.open();
  const question = `Where is order 1042? ${Date.now()}`;
  // The new conversation is claimed for Ada as soon as the widget starts it.
  const claimed = identifyCall(a.page);
  const { conversation } = await (await a.send(question)).json();
  await expect(a.message(question)).toHaveAttribute('data-delivery', 'sent');
  expect(await claimed).toBe(200);

  // Phone: a browser that never saw the conversation. Before Ada signs in: nothing of hers.
  const phone = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const b = new ShopPage(await phone.newPage());
  await b.goto();
  await b.open();
  await expect(b.panel).not.toContainText(question);
  await b.page.keyboard.press('Escape'); // the panel covers the phone's page
  await b.page.getByRole('button', { name: 'Sign in as Ada' }).click();
  await expect(b.page.getByTestId('account')).toContainText('Signed in as Ada Lovelace');
  await b.open();
  await expect(b.message(question)).toBeVisible();
  expect(await heldConversation(b.page)).toBe(conversation.id);
  // She answers from the phone; the laptop's panel has it too (one conversation).
  await b.composer.fill('It was a gift, by the way.');
  await b.composer.press('Enter');
  await expect(b.message('It was a gift')).toHaveAttribute('data-delivery', 'sent');
  await expect(a.message('It was a gift')).toBeVisible();
  await b.page.screenshot({ path: test.info().outputPath('identity-phone.png') });

  // The shop answers; both browsers show it.
  await agent.reply(conversation.id, 'It left our warehouse this morning.');
  await expect(b.message('left our warehouse')).toBeVisible();
  await expect(a.message('left our warehouse')).toBeVisible();

  // The inbox shows who she is, verified.
  const merchant = await browser.newContext();
  const { page: inbox } = await signIn(merchant, relay(), OWNER);
  await row(inbox, conversation.id).click();
  await expect(inbox.getByTestId('context-customer')).toContainText('✓ Verified cust_1001');
  await expect(inbox.getByTestId('context-customer')).toContainText('Ada Lovelace · ada@example.com');
  await axeLightAndDark(inbox, '[data-testid=context-customer]');
  await inbox.screenshot({ path: test.info().outputPath('identity-inbox.png') });

  // Signing out on the phone clears its thread (storage included); the conversation stays.
  await b.page.keyboard.press('Escape');
  await b.page.getByRole('button', { name: 'Sign out' }).click();
  await expect(b.page.getByTestId('account')).toContainText('Sign in as Ada');
  await expect.poll(() => holdsThread(b.page)).toBe(false);
  await b.open();
  await expect(b.panel).not.toContainText(question);
  expect((await agent.messages(conversation.id)).map((m) => m.body)).toContain(question);
  // Ben signs in on the same phone: a fresh start, never Ada's thread.
  await b.page.keyboard.press('Escape'); // the panel covers the phone's page
  await b.page.getByRole('button', { name: 'Sign in as Ben' }).click();
  await b.page.reload();
  await b.open();
  await expect(b.panel).not.toContainText(question);
  await expect(b.panel).not.toContainText('left our warehouse');
  // The laptop, still holding Ada's thread, is handed to Ben without signing her out: his
  // sign-in lets go of her thread (he has none yet), unsent text included.
  await a.composer.fill('Ada typed this and left');
  await signInAs(a.page, 'ben');
  await expect(a.panel).not.toContainText(question);
  await expect.poll(() => heldConversation(a.page)).toBe(null);
  await a.page.reload();
  await a.open();
  await expect(a.panel).not.toContainText('left our warehouse');
  await expect(a.composer).toHaveValue('');
  expect(a.errors.concat(b.errors)).toEqual([]);
  await Promise.all([laptop.close(), phone.close(), merchant.close()]);
});

test('a forged signature attaches nothing: the browser keeps its own anonymous thread', async ({ browser }) => {
  const context = await browser.newContext();
  const shop = new ShopPage(await context.newPage());
  const warnings = [];
  shop.page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  await shop.goto();
  // Ada's id with a made-up signature, as a visitor could type it in the console.
  await shop.page.evaluate(() => Pigeon('identify', { id: 'cust_1001', signature: '0'.repeat(64), name: 'Ada' }));
  const refused = identifyCall(shop.page);
  await shop.open();
  expect(await refused).toBe(403);
  // The shop's developer sees why in the console; the browser holds no conversation.
  await expect.poll(() => warnings.join('\n')).toContain('nothing was attached');
  expect(await heldConversation(shop.page)).toBe(null);
  // The visitor's own message starts a conversation that is nobody's.
  const { conversation } = await (await shop.send('Just browsing.')).json();
  await expect(shop.message('Just browsing.')).toHaveAttribute('data-delivery', 'sent');
  const merchant = await browser.newContext();
  const { page: inbox } = await signIn(merchant, relay(), OWNER);
  await row(inbox, conversation.id).click();
  await expect(inbox.getByTestId('context-email')).toBeVisible();
  await expect(inbox.getByTestId('context-customer')).toHaveCount(0);
  await Promise.all([context.close(), merchant.close()]);
});

test("an anonymous visitor's thread stays when the shop says nobody is signed in", async ({ browser }) => {
  const context = await browser.newContext();
  const shop = new ShopPage(await context.newPage());
  await shop.goto();
  await shop.open();
  const { conversation } = await (await shop.send('Is the shop open on Sundays?')).json();
  await expect(shop.message('Is the shop open on Sundays?')).toHaveAttribute('data-delivery', 'sent');
  // A shop that calls identify(null) on every page of a visitor who is not signed in.
  await shop.page.evaluate(() => Pigeon('identify', null));
  await shop.page.reload();
  await shop.page.evaluate(() => Pigeon('identify', null));
  await shop.open();
  await expect(shop.message('Is the shop open on Sundays?')).toBeVisible();
  expect(await heldConversation(shop.page)).toBe(conversation.id);
  await context.close();
});

test('Settings shows signed identity to owners, on, with its secret never shown again', async ({ browser }) => {
  const merchant = await browser.newContext();
  const { page } = await signIn(merchant, relay(), OWNER);
  await page.getByTestId('settings-open').click();
  const section = page.getByTestId('identity');
  await expect(section).toBeVisible();
  await expect(section.getByTestId('identity-state')).toContainText('On: the secret in use was made');
  await expect(section.getByTestId('identity-make')).toHaveText('Make a new secret');
  await expect(section).not.toContainText('pgn_id_');
  await axeLightAndDark(page, '[data-testid=identity]');
  await merchant.close();
});
