// The merchant's inbox (/inbox/ on the relay) end to end, against the real relay: a shopper on
// the demo shop in one browser context, a teammate in the inbox in another. Sign-in goes
// through the mail the relay sent; then the live list, the thread with the shopper's page and
// cart, replies (quiet ones too), close and reopen, another site's teammate, the hostile
// corpus, a 375 px phone, offline, sign-out, and axe in light and dark mode.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { test, expect } from '@playwright/test';
import { ShopPage, agentKey, relay, shop, site } from './pigeon.mjs';
import { sentMail, waitForMail } from '../harness/mailbox.mjs';
import { SIGNIN_SUBJECT, inboxApi, requestLink, sessionCookie, shopperConversation, signIn, signinMails } from './inbox-helpers.mjs';

const OWNER = 'owner@pigeon-outfitters.test'; // Olivia, owner of `demo`
const AGENT = 'sam@pigeon-outfitters.test'; // Sam, agent of `demo`
const OTHER_OWNER = 'owner@other-shop.test'; // owner of `other` only
const LINK_INVALID = 'This sign-in link does not work any more: each link works once, for 15 minutes. Ask for a new one.';
const SHOPPER_DELAY_MS = 2_000; // stack.mjs mailDelays.shopper in the e2e stack

const corpus = JSON.parse(fs.readFileSync(new URL('../corpus/hostile.json', import.meta.url), 'utf8'));
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const inboxUrl = () => `${relay()}/inbox/`;
const row = (page, id) => page.locator(`[data-testid="conversation-row"][data-id="${id}"]`);
const unique = (what) => `${what} ${Date.now().toString(36)}${crypto.randomBytes(2).toString('hex')}`;

async function agentCall(path, body) {
  const res = await fetch(`${relay()}/v1/agent${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${agentKey()}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const shopCart = { currency: 'EUR', total: 5999, items: [{ name: 'Trail Runner 2 (size 42)', quantity: 1, unit_price: 5999 }] };
const shopContext = (title = 'Trail Runner 2 – Pigeon Outfitters', cart = shopCart) => ({ page: { url: `${shop()}/`, title }, cart });

test('sign-in by the mailed link; the token leaves the address bar; reused, edited and unknown links are refused', async ({ browser }) => {
  const merchant = await browser.newContext();
  const { page, link } = await signIn(merchant, relay(), OWNER);
  expect(page.url()).not.toContain('#signin');
  expect(page.url()).not.toContain(link.split('#signin=')[1]);
  expect(page.url()).toBe(inboxUrl());
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Pigeon Outfitters');
  // The session is an HttpOnly cookie, invisible to the page's scripts.
  const cookie = await sessionCookie(merchant);
  expect(cookie.httpOnly).toBe(true);
  expect(cookie.sameSite).toBe('Strict');
  expect(await page.evaluate(() => document.cookie)).not.toContain('pigeon_inbox');
  // A reload keeps the session (no link needed any more).
  await page.reload();
  await expect(page.getByTestId('sign-out')).toBeVisible();

  // Someone else with the same link, an edited one, a made-up one: the sign-in form with
  // the relay's refusal, and no session.
  const token = link.split('#signin=')[1];
  const edited = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
  const cases = {
    reused: link,
    edited: `${inboxUrl()}#signin=${edited}`,
    truncated: `${inboxUrl()}#signin=${token.slice(0, 40)}`,
    unknown: `${inboxUrl()}#signin=${crypto.randomBytes(32).toString('hex')}`,
  };
  const stranger = await browser.newContext();
  for (const [what, url] of Object.entries(cases)) {
    const p = await stranger.newPage();
    await p.goto(url);
    await expect(p.getByTestId('inbox-login-email'), what).toBeVisible();
    await expect(p.getByRole('alert'), what).toHaveText(LINK_INVALID);
    await expect(p.getByTestId('sign-out'), what).toHaveCount(0);
    expect(p.url(), what).not.toContain('#signin');
    await p.close();
  }
  expect((await stranger.cookies()).filter((c) => c.name === 'pigeon_inbox'), 'no session from a refused link').toEqual([]);
  expect(page.errors).toEqual([]);
  await stranger.close();
  await merchant.close();
});

test("a shopper's message shows in the open inbox live; the thread has the page and cart; the reply reaches the shopper's panel", async ({ browser }) => {
  const merchant = await browser.newContext();
  const { page: inbox } = await signIn(merchant, relay(), OWNER);
  await expect(inbox.getByTestId('live-state')).toHaveText('Live');
  // A mark that a reload would wipe.
  await inbox.evaluate(() => { window.__sameDocument = true; });

  const shopper = await browser.newContext();
  const shopPage = new ShopPage(await shopper.newPage());
  await shopPage.goto();
  await shopPage.page.getByTestId('add-to-cart').click();
  await shopPage.open();
  const question = unique('Do the Trail Runner 2 run small?');
  const { conversation } = await (await shopPage.send(question)).json();
  await expect(shopPage.message(question)).toHaveAttribute('data-delivery', 'sent');

  // Live: the row appears without a reload, with the preview, the page and the cart total.
  const r = row(inbox, conversation.id);
  await expect(r).toBeVisible({ timeout: 5_000 });
  await expect(r.locator('.preview')).toHaveText(question);
  await expect(r.locator('.meta')).toHaveText('Trail Runner 2 – Pigeon Outfitters · 59.99 EUR');
  await expect(r).toHaveAttribute('data-unread', '1');
  expect(await inbox.evaluate(() => window.__sameDocument)).toBe(true);

  await r.click();
  await expect(inbox.getByTestId('thread-message')).toHaveCount(1);
  await expect(inbox.getByTestId('thread-message').first()).toHaveAttribute('data-author', 'shopper');
  await expect(inbox.getByTestId('thread-message').first().locator('p')).toHaveText(question);
  await expect(inbox.getByTestId('context-page')).toContainText('Trail Runner 2 – Pigeon Outfitters');
  await expect(inbox.getByTestId('context-page')).toContainText(`${shop()}/`);
  await expect(inbox.getByTestId('context-cart')).toContainText('1 × Trail Runner 2 (size 42) — 59.99 EUR');
  await expect(inbox.getByTestId('context-cart')).toContainText('Total 59.99 EUR');
  // Opening it marked it read.
  await expect(r).toHaveAttribute('data-unread', '0');

  // A reply with Enter (Shift+Enter is a new line); it shows in the thread, signed with the
  // teammate's name, and in the shopper's open panel, live.
  const answer = unique('They fit true to size.');
  const composer = inbox.getByTestId('reply-composer');
  await composer.fill(answer);
  await composer.press('Shift+Enter');
  await composer.pressSequentially('Order your usual size.');
  await expect(composer).toHaveValue(`${answer}\nOrder your usual size.`);
  await composer.press('Enter');
  await expect(composer).toHaveValue('');
  const mine = inbox.getByTestId('thread-message').filter({ hasText: answer });
  await expect(mine).toHaveAttribute('data-author', 'agent');
  await expect(mine.locator('.by')).toHaveText('Olivia');
  await expect(mine.locator('p')).toHaveText(`${answer}\nOrder your usual size.`);
  await expect(shopPage.message(answer)).toBeVisible({ timeout: 5_000 });
  await expect(shopPage.message(answer)).toContainText('Order your usual size.');
  await expect(shopPage.message(answer)).toHaveAttribute('data-author', 'agent');
  // And one more with the Send button.
  await inbox.getByTestId('reply-composer').fill('Anything else?');
  await inbox.getByTestId('reply-send').click();
  await expect(shopPage.message('Anything else?')).toBeVisible({ timeout: 5_000 });
  // The shopper answers; it shows in the open thread live.
  await shopPage.composer.fill('No, thanks!');
  await shopPage.composer.press('Enter');
  await expect(inbox.getByTestId('thread-message').filter({ hasText: 'No, thanks!' })).toHaveAttribute('data-author', 'shopper');
  await expect(inbox.getByTestId('thread-message')).toHaveCount(4);
  expect(await inbox.evaluate(() => window.__sameDocument)).toBe(true);
  expect(inbox.errors).toEqual([]);
  expect(shopPage.errors).toEqual([]);
  await shopper.close();
  await merchant.close();
});

test("a reply with \"don't email\" sends the shopper no email; a normal one does", async ({ browser }) => {
  // The shopper asks, leaves an address, and goes (so replies stay unread: an open panel
  // would read them and no email would be due anyway).
  const shopper = await browser.newContext();
  const shopPage = new ShopPage(await shopper.newPage());
  await shopPage.goto();
  await shopPage.open();
  const question = unique('Can I pay by invoice?');
  const { conversation } = await (await shopPage.send(question)).json();
  await expect(shopPage.message(question)).toHaveAttribute('data-delivery', 'sent');
  const address = `quiet-${Date.now()}@example.com`;
  await shopPage.page.getByTestId('email-me').click();
  await shopPage.page.getByTestId('email-input').fill(address);
  await shopPage.page.getByTestId('email-save').click();
  await expect(shopPage.page.getByTestId('email-saved')).toContainText(address);
  await shopper.close();

  const merchant = await browser.newContext();
  const { page: inbox } = await signIn(merchant, relay(), AGENT);
  await row(inbox, conversation.id).click();
  await expect(inbox.getByTestId('context-email')).toHaveText(address);
  const quiet = unique('Internal note: checking with accounting');
  await inbox.getByTestId('reply-no-email').check();
  await inbox.getByTestId('reply-composer').fill(quiet);
  await inbox.getByTestId('reply-composer').press('Enter');
  await expect(inbox.locator('[data-testid="thread-message"][data-author="agent"]').filter({ hasText: quiet })).toBeVisible();
  // The switch is per reply.
  await expect(inbox.getByTestId('reply-no-email')).not.toBeChecked();
  // Well past the shopper's quiet time: nothing for the shopper.
  await inbox.waitForTimeout(SHOPPER_DELAY_MS + 3_000);
  expect((await sentMail(relay())).filter((m) => m.to === address)).toEqual([]);

  const loud = unique('Yes, invoices are fine.');
  await inbox.getByTestId('reply-composer').fill(loud);
  await inbox.getByTestId('reply-composer').press('Enter');
  const mail = await waitForMail(relay(), (m) => m.to === address, 15_000);
  expect(mail.text).toContain(loud);
  expect(mail.text).toContain('Sam');
  expect(mail.text).not.toContain(quiet);
  expect(mail.html).not.toContain(quiet);
  expect((await sentMail(relay())).filter((m) => m.to === address)).toHaveLength(1);
  expect(inbox.errors).toEqual([]);
  await merchant.close();
});

test('close moves a conversation to the Closed tab, reopen moves it back', async ({ browser }) => {
  const id = await shopperConversation([unique('Where is my order?')], shopContext());
  const merchant = await browser.newContext();
  const { page: inbox } = await signIn(merchant, relay(), OWNER);
  await expect(inbox.getByTestId('tab-open')).toHaveAttribute('aria-selected', 'true');
  await row(inbox, id).click();
  await expect(inbox.getByTestId('reopen-conversation')).toBeHidden();
  await inbox.getByTestId('close-conversation').click();
  await expect(row(inbox, id)).toHaveCount(0);
  await expect(inbox.getByTestId('reopen-conversation')).toBeVisible();
  await expect(inbox.getByTestId('close-conversation')).toBeHidden();
  const listed = async (status) => (await agentCall(`/sites/${site()}/conversations?status=${status}`)).json.conversations.some((c) => c.id === id);
  await expect.poll(() => listed('closed')).toBe(true);

  await inbox.getByTestId('tab-closed').click();
  await expect(inbox.getByTestId('tab-closed')).toHaveAttribute('aria-selected', 'true');
  await expect(row(inbox, id)).toBeVisible();
  await row(inbox, id).click();
  await inbox.getByTestId('reopen-conversation').click();
  await expect(row(inbox, id)).toHaveCount(0);
  await expect(inbox.getByTestId('close-conversation')).toBeVisible();
  await expect.poll(() => listed('open')).toBe(true);
  await inbox.getByTestId('tab-open').click();
  await expect(row(inbox, id)).toBeVisible();
  // As the relay has it, after a reload too.
  await inbox.reload();
  await expect(row(inbox, id)).toBeVisible();
  await inbox.getByTestId('tab-closed').click();
  await expect(inbox.getByTestId('tab-closed')).toHaveAttribute('aria-selected', 'true');
  await expect(row(inbox, id)).toHaveCount(0);
  expect(inbox.errors).toEqual([]);
  await merchant.close();
});

test("another site's owner sees none of the demo shop's conversations and gets 404 for them", async ({ browser }) => {
  const id = await shopperConversation([unique('Private question for Pigeon Outfitters')], shopContext());
  const demo = await browser.newContext();
  await signIn(demo, relay(), OWNER);
  const ownerCookie = (await sessionCookie(demo)).value;

  const other = await browser.newContext();
  const { page } = await signIn(other, relay(), OTHER_OWNER);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Other Shop');
  await expect(page.getByRole('combobox', { name: 'Site' })).toHaveCount(0);
  await expect(page.locator('.empty')).toBeVisible();
  await expect(page.getByTestId('conversation-row')).toHaveCount(0);
  await page.getByTestId('tab-closed').click();
  await expect(page.locator('.empty')).toBeVisible();
  await expect(page.getByTestId('conversation-row')).toHaveCount(0);
  const cookie = (await sessionCookie(other)).value;

  // The same calls: the demo owner gets the conversation, the other site's owner the answer
  // for an id never seen.
  const unknown = crypto.randomBytes(16).toString('hex');
  const calls = [
    ['GET', `/v1/inbox/conversations/{id}`],
    ['GET', `/v1/inbox/conversations/{id}/messages?after=0`],
    ['POST', `/v1/inbox/conversations/{id}/messages`, { client_id: 'cross-site', body: 'Not yours', notify_shopper: false }],
    ['POST', `/v1/inbox/conversations/{id}/read`, { seq: 1 }],
    ['POST', `/v1/inbox/conversations/{id}/close`],
    ['POST', `/v1/inbox/conversations/{id}/reopen`],
  ];
  for (const [method, path, body] of calls) {
    const theirs = await inboxApi(cookie, path.replace('{id}', id), { method, body });
    const never = await inboxApi(cookie, path.replace('{id}', unknown), { method, body });
    expect([theirs.status, theirs.json?.error?.code], `${method} ${path}`).toEqual([404, 'not_found']);
    expect(theirs.text, `${method} ${path} answers as for an unknown id`).toBe(never.text);
  }
  // Nothing the other owner tried took effect: still open, unread, no reply.
  const own = await inboxApi(ownerCookie, `/v1/inbox/conversations/${id}`);
  expect(own.status, own.text).toBe(200);
  expect([own.json.id, own.json.status, own.json.agent_read_seq]).toEqual([id, 'open', 0]);
  const ownMessages = await inboxApi(ownerCookie, `/v1/inbox/conversations/${id}/messages?after=0`);
  expect(ownMessages.json.messages.map((m) => m.author)).toEqual(['shopper']);
  // The demo shop's list is not theirs either.
  const list = await inboxApi(cookie, `/v1/inbox/sites/${site()}/conversations?status=open`);
  expect([list.status, list.json?.error?.code], list.text).toEqual([404, 'not_found']);
  expect((await inboxApi(ownerCookie, `/v1/inbox/sites/${site()}/conversations?status=open`)).text).toContain(id);
  expect(page.errors).toEqual([]);
  await other.close();
  await demo.close();
});

test(`the hostile corpus (${corpus.length} strings) in shopper messages, page titles and carts is text in the list and the thread`, async ({ browser }) => {
  test.setTimeout(120_000);
  const clip = (s) => [...s].slice(0, 200).join('');
  const hostileContext = (i) => ({
    page: { url: `${shop()}/?q=${encodeURIComponent(clip(corpus[i]))}`, title: clip(corpus[i]) },
    cart: { currency: 'EUR', total: 1, items: [{ name: clip(corpus[i]), quantity: 1, unit_price: 1 }] },
  });
  // One conversation per string (its preview, page and cart in the list), a few at a time;
  // each is read by the agent at once, so no merchant email is due for it.
  const ids = new Array(corpus.length);
  for (let start = 0; start < corpus.length; start += 12) {
    await Promise.all(corpus.slice(start, start + 12).map(async (s, k) => {
      const i = start + k;
      ids[i] = await shopperConversation([s], hostileContext(i));
      await agentCall(`/conversations/${ids[i]}/read`, { seq: 1 });
    }));
  }
  // And one with every string in its thread, its page titled and its cart filled with them.
  const threadContext = {
    page: { url: `${shop()}/`, title: clip(corpus[0]), referrer: clip(corpus[1]) },
    cart: { currency: 'EUR', total: 100, items: corpus.slice(0, 100).map((s) => ({ name: clip(s), quantity: 1, unit_price: 1 })) },
  };
  const threadId = await shopperConversation(corpus, threadContext);
  await agentCall(`/conversations/${threadId}/read`, { seq: corpus.length });

  const merchant = await browser.newContext();
  const dialogs = [];
  merchant.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await merchant.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const { page } = await signIn(merchant, relay(), OWNER);
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const scriptsBefore = await page.evaluate(() => document.querySelectorAll('script').length);

  // The list: each row's preview and page are exactly what the relay stored.
  const stored = new Map((await agentCall(`/sites/${site()}/conversations?status=open`)).json.conversations.map((c) => [c.id, c]));
  await expect(row(page, ids[corpus.length - 1])).toBeVisible();
  await expect(row(page, threadId)).toBeVisible();
  // The list draws 50 rows at a time: older ones come with "Show older conversations".
  const more = page.getByTestId('more-conversations');
  for (let pages = 0; !(await row(page, ids[0]).count()); pages++) {
    expect(pages, 'the oldest hostile row is reached').toBeLessThan(20);
    const rows = await page.getByTestId('conversation-row').count();
    await more.click();
    await expect.poll(() => page.getByTestId('conversation-row').count()).toBeGreaterThan(rows);
  }
  const shown = await page.evaluate((wanted) => Object.fromEntries(wanted.map((id) => {
    const r = document.querySelector(`[data-testid="conversation-row"][data-id="${id}"]`);
    return [id, r && { preview: r.querySelector('.preview').textContent, meta: r.querySelector('.meta').textContent }];
  })), ids);
  for (let i = 0; i < corpus.length; i++) {
    const want = stored.get(ids[i]);
    expect(want, `stored row ${i}`).toBeTruthy();
    // As stored: the relay trims surrounding whitespace (Unicode's, not JavaScript's: a BOM
    // stays) and keeps the first 140 characters.
    expect(want.last_message_preview.length > 0 && corpus[i].includes(want.last_message_preview), `stored preview ${i}`).toBe(true);
    expect(shown[ids[i]], `row ${i}: ${JSON.stringify(corpus[i])}`).toEqual({
      preview: want.last_message_preview,
      meta: `${clip(corpus[i])} · 0.01 EUR`,
    });
  }

  // The thread: every message's text is the stored body; page, referrer and cart are text.
  await row(page, threadId).click();
  const messages = page.getByTestId('thread-message');
  // The thread opens on its newest 100; the rest are one click away.
  await expect(messages).toHaveCount(100);
  await page.getByTestId('thread-earlier').click();
  await expect(page.getByTestId('thread-earlier')).toBeHidden();
  await expect(messages).toHaveCount(corpus.length);
  const bodies = (await agentCall(`/conversations/${threadId}/messages?after=0&limit=500`)).json.messages.map((m) => m.body);
  expect(bodies).toHaveLength(corpus.length);
  const texts = await messages.locator('p').allTextContents();
  expect(texts).toEqual(bodies);
  for (let i = 0; i < corpus.length; i++) {
    expect(corpus[i].includes(bodies[i]) && bodies[i].trim() === corpus[i].trim(), JSON.stringify(corpus[i])).toBe(true);
  }
  await expect(page.getByTestId('context-page')).toContainText(clip(corpus[0]));
  const pageText = await page.getByTestId('context-page').evaluate((e) => e.textContent);
  expect(pageText.startsWith(clip(corpus[0]))).toBe(true);
  const about = await page.locator('aside.about').evaluate((e) => e.textContent);
  expect(about).toContain(`from ${clip(corpus[1])}`);
  const cart = await page.getByTestId('context-cart').locator('li').allTextContents();
  expect(cart).toEqual(corpus.slice(0, 100).map((s) => `1 × ${clip(s)} — 0.01 EUR`));

  // Nothing from the input became markup or ran.
  const main = page.locator('main');
  const markup = 'script, img, svg, iframe, object, embed, video, audio, style, math, base, meta, link, marquee, details, b, a, source, frame, frameset';
  expect(await main.locator(markup).count()).toBe(0);
  const handlers = await page.evaluate(() => [...document.querySelectorAll('*')]
    .flatMap((el) => [...el.attributes].filter((a) => /^on/i.test(a.name) || /^\s*(javascript|data):/i.test(a.value)).map((a) => `${el.tagName} ${a.name}=${a.value}`)));
  expect(handlers).toEqual([]);
  expect(await page.evaluate(() => document.querySelectorAll('script').length)).toBe(scriptsBefore);
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  expect(dialogs).toEqual([]);
  expect(await page.evaluate(() => window.__csp)).toEqual([]);
  expect(page.errors).toEqual([]);
  await merchant.close();
  // Out of the way of later tests' lists.
  await Promise.all([...ids, threadId].map((id) => agentCall(`/conversations/${id}/close`, {})));
});

test('at 375 px: the list, then a conversation with a way back, and nothing wider than the screen', async ({ browser }) => {
  const long = `https://shop.example/${'very-long-path-segment-'.repeat(12)}`;
  const id = await shopperConversation([unique('Phone question'), `A long word: ${'x'.repeat(300)} and a link ${long}`],
    { page: { url: long, title: 'A product with a rather long name that goes on and on and on', referrer: long }, cart: shopCart });
  const merchant = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  const { page } = await signIn(merchant, relay(), OWNER);
  const list = page.getByRole('navigation', { name: 'Conversations' });
  const back = page.getByRole('button', { name: '← Conversations' });
  const width = () => page.evaluate(() => document.scrollingElement.scrollWidth);
  await expect(list).toBeVisible();
  await expect(row(page, id)).toBeVisible();
  await expect(page.getByRole('region', { name: 'Conversation' })).toBeHidden();
  expect(await width()).toBeLessThanOrEqual(375);

  await row(page, id).click();
  await expect(page.getByTestId('thread-message')).toHaveCount(2);
  await expect(page.getByTestId('thread-message').last()).toBeVisible();
  await expect(list).toBeHidden();
  await expect(back).toBeVisible();
  await expect(page.getByTestId('reply-composer')).toBeVisible();
  await expect(page.getByTestId('context-cart')).toBeAttached();
  expect(await width()).toBeLessThanOrEqual(375);
  // Each part of the conversation fits the screen too (a scroller inside could hide overflow).
  const wide = await page.evaluate(() => [...document.querySelectorAll('main *')]
    .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > 375.5)
    .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`));
  expect(wide).toEqual([]);

  await back.click();
  await expect(list).toBeVisible();
  await expect(page.getByRole('region', { name: 'Conversation' })).toBeHidden();

  // Offline the header says "Reconnecting…", its longest state: still nothing wider than the screen.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  await merchant.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('live-state')).toHaveText('Reconnecting…');
  await expect(row(page, id)).toBeVisible();
  expect(await width()).toBeLessThanOrEqual(375);
  await merchant.setOffline(false);
  expect(page.errors).toEqual([]);
  await merchant.close();
});

test('a 250-message thread opens on its newest 100 in one request, earlier pages on demand, the cart history whole', async ({ browser }) => {
  const headers = { 'content-type': 'application/json', origin: shop() };
  const created = await (await fetch(`${relay()}/v1/sites/${site()}/conversations`, { method: 'POST', headers, body: '{}' })).json();
  const { conversation: { id }, token } = created;
  const auth = { ...headers, authorization: `Bearer ${token}` };
  const cart = (total, quantity) => ({ currency: 'EUR', total, items: [{ name: 'Trail Runner 2', quantity, unit_price: total / quantity }] });
  // Carts change at messages 1 and 2 (long out of view when the thread opens) and 240.
  const cartAt = (n) => (n === 1 ? cart(5000, 1) : n < 240 ? cart(10000, 2) : cart(15000, 3));
  const post = (n) => fetch(`${relay()}/v1/conversations/${id}/messages`, { method: 'POST', headers: auth,
    body: JSON.stringify({ client_id: `long-${n}`, body: `Long thread message ${n}`, context: { page: { url: `${shop()}/`, title: 'Shop' }, cart: cartAt(n) } }) });
  for (let n = 1; n <= 250; n++) expect((await post(n)).status).toBe(201); // one at a time: seq n is message n

  const merchant = await browser.newContext();
  const { page } = await signIn(merchant, relay(), OWNER);
  const asked = [];
  // The windows asked for; a catch-up after the newest message held (the socket opening
  // while the thread loads) is not a page of the thread and is left out.
  page.on('request', (r) => {
    const q = r.url().includes(`/conversations/${id}/messages`) && new URL(r.url()).search;
    if (q && !(/^\?after=(\d+)/.test(q) && Number(q.match(/^\?after=(\d+)/)[1]) >= 250)) asked.push(q);
  });
  await row(page, id).click();
  const messages = page.getByTestId('thread-message');
  await expect(messages).toHaveCount(100);
  await expect(messages.first().locator('p')).toHaveText('Long thread message 151');
  await expect(messages.last().locator('p')).toHaveText('Long thread message 250');
  expect(asked).toEqual(['?last=100']);
  // The history covers the whole conversation, not only the messages in view.
  const history = page.getByTestId('context-cart-history').locator('li');
  await expect(history).toHaveCount(3);
  expect((await history.allTextContents()).map((t) => t.split(' — ')[1])).toEqual(['50.00 EUR, 1 item', '100.00 EUR, 2 items', '150.00 EUR, 3 items']);

  // Each "Show earlier messages" asks for the page before the oldest held.
  await page.getByTestId('thread-earlier').click();
  await expect(messages).toHaveCount(200);
  await page.getByTestId('thread-earlier').click();
  await expect(messages).toHaveCount(250);
  await expect(page.getByTestId('thread-earlier')).toBeHidden();
  expect(asked).toEqual(['?last=100', '?before=151&limit=100', '?before=51&limit=100']);
  expect(await messages.locator('p').allTextContents()).toEqual(Array.from({ length: 250 }, (_, i) => `Long thread message ${i + 1}`));

  // A cart shared while the conversation is open is a new step, live.
  const live = await fetch(`${relay()}/v1/conversations/${id}/messages`, { method: 'POST', headers: auth,
    body: JSON.stringify({ client_id: 'long-251', body: 'One more thing', context: { page: { url: `${shop()}/`, title: 'Shop' }, cart: cart(2000, 1) } }) });
  expect(live.status).toBe(201);
  await expect(messages).toHaveCount(251);
  await expect(history).toHaveCount(4);
  await expect(history.last()).toContainText('20.00 EUR, 1 item');
  expect(asked).toHaveLength(3);
  expect(page.errors).toEqual([]);
  await merchant.close();
  await agentCall(`/conversations/${id}/close`, {});
});

test('Olivia assigns a conversation to Sam: it shows in his Mine live, leaves Unassigned; her reply claims another', async ({ browser }) => {
  const [olivia, sam] = [await browser.newContext(), await browser.newContext()];
  const { page: her } = await signIn(olivia, relay(), OWNER);
  const { page: him } = await signIn(sam, relay(), AGENT);
  await him.getByTestId('tab-me').click();
  await expect(him.getByTestId('tab-me')).toHaveAttribute('aria-selected', 'true');
  await expect(him.getByTestId('live-state')).toHaveText('Live');
  await her.getByTestId('tab-nobody').click();

  const parcel = await shopperConversation([unique('Where is my parcel?')]);
  const refund = await shopperConversation([unique('Can I get a refund?')]);
  await expect(row(her, parcel)).toBeVisible();
  await expect(row(her, refund)).toBeVisible();
  await expect(row(him, parcel)).toHaveCount(0);

  // Assigned to Sam: his Mine shows it without a reload, her Unassigned no longer does.
  await row(her, parcel).click();
  const picker = her.getByTestId('assignee');
  await expect(picker.locator('option')).toContainText(['Nobody', 'Olivia (me)', 'Sam']);
  await expect(picker).toHaveValue('');
  await picker.selectOption({ label: 'Sam' });
  await expect(row(him, parcel)).toBeVisible({ timeout: 5_000 });
  await expect(row(him, parcel).locator('.meta')).toContainText('→ Sam');
  await expect(row(her, parcel)).toHaveCount(0);
  await expect(picker).toHaveValue(AGENT);

  // Her reply to the unassigned one makes it hers: it leaves Unassigned and is in her Mine.
  // Its details come late, from before the reply: the change heard on the socket still shows.
  await her.route((url) => url.pathname.endsWith(`/inbox/conversations/${refund}`), async (route) => {
    const answer = await route.fetch();
    await new Promise((r) => setTimeout(r, 1_500));
    await route.fulfill({ response: answer });
  });
  await row(her, refund).click();
  await her.getByTestId('reply-composer').fill('Yes, within 30 days.');
  await her.getByTestId('reply-send').click();
  await expect(row(her, refund)).toHaveCount(0, { timeout: 5_000 });
  await expect(her.getByTestId('assignee')).toHaveValue(OWNER);
  await her.getByTestId('tab-me').click();
  await expect(row(her, refund)).toBeVisible();
  await expect(row(her, parcel)).toHaveCount(0);
  expect(her.errors).toEqual([]);
  expect(him.errors).toEqual([]);
  await Promise.all([olivia.close(), sam.close()]);
  await Promise.all([parcel, refund].map((id) => agentCall(`/conversations/${id}/close`, {})));
});

test('the keyboard: j/k move, Enter opens, r replies, e closes, ? lists them; nothing fires while typing', async ({ browser }) => {
  const older = await shopperConversation([unique('Keyboard older')]);
  const newer = await shopperConversation([unique('Keyboard newer')]);
  const merchant = await browser.newContext();
  const { page } = await signIn(merchant, relay(), OWNER);
  await expect(row(page, newer)).toBeVisible();
  const focused = () => page.evaluate(() => document.activeElement?.dataset?.id ?? document.activeElement?.dataset?.testid ?? null);

  // The two newest rows, newest first.
  await page.keyboard.press('j');
  expect(await focused()).toBe(newer);
  await page.keyboard.press('j');
  expect(await focused()).toBe(older);
  await page.keyboard.press('k');
  expect(await focused()).toBe(newer);
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('thread-message')).toHaveCount(1);
  await expect(page.getByTestId('thread-message').first()).toContainText('Keyboard older');

  // r: into the reply box; letters typed there are text, not shortcuts.
  await page.keyboard.press('r');
  expect(await focused()).toBe('reply-composer');
  await page.keyboard.type('jerk?');
  await expect(page.getByTestId('reply-composer')).toHaveValue('jerk?');
  await expect(page.getByTestId('shortcuts')).toBeHidden();
  await expect(page.getByTestId('close-conversation')).toBeVisible();
  // Escape leaves the box; then e closes the conversation.
  await page.keyboard.press('Escape');
  expect(await focused()).not.toBe('reply-composer');
  await page.keyboard.press('e');
  await expect(page.getByTestId('reopen-conversation')).toBeVisible();
  await expect.poll(async () => (await agentCall(`/sites/${site()}/conversations?status=closed`)).json.conversations.some((c) => c.id === older)).toBe(true);

  // ? lists the shortcuts; Escape hides the list.
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await expect(page.getByTestId('shortcuts')).toContainText('Next conversation');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shortcuts')).toBeHidden();
  expect(page.errors).toEqual([]);
  await merchant.close();
  await agentCall(`/conversations/${newer}/close`, {});
});

test('search: / finds a word from an old message and a shopper email, marked; nothing from an erased conversation; Enter opens it', async ({ browser }) => {
  const word = `walrus${Date.now().toString(36)}`;
  const found = await shopperConversation([`My order with the ${word} socks never came`, 'Hello?', 'Anyone there?', 'It was order 1234', 'Thanks']);
  // Another conversation has the word only in its shopper's address; a third is erased.
  const headers = { 'content-type': 'application/json', origin: shop() };
  const create = async () => {
    const res = await fetch(`${relay()}/v1/sites/${site()}/conversations`, { method: 'POST', headers, body: '{}' });
    const { conversation, token } = await res.json();
    const auth = { ...headers, authorization: `Bearer ${token}` };
    const post = await fetch(`${relay()}/v1/conversations/${conversation.id}/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ client_id: 'c1', body: `the ${word} question` }) });
    expect(post.status).toBe(201);
    return { id: conversation.id, auth };
  };
  const addressed = await create();
  const put = await fetch(`${relay()}/v1/conversations/${addressed.id}/contact`, { method: 'PUT', headers: addressed.auth, body: JSON.stringify({ email: `${word}@example.com` }) });
  expect(put.status).toBe(204);
  const erased = await create();
  const merchant = await browser.newContext();
  const { page } = await signIn(merchant, relay(), OWNER);
  const cookie = (await sessionCookie(merchant)).value;
  const searchApi = async () => (await inboxApi(cookie, `/v1/inbox/sites/${site()}/search?q=${word}`)).json.hits.map((h) => h.conversation);
  // Searchable once the index rows are written (about a second).
  await expect.poll(searchApi, { timeout: 10_000 }).toContain(erased.id);
  const gone = await fetch(`${relay()}/v1/conversations/${erased.id}`, { method: 'DELETE', headers: erased.auth });
  expect(gone.status).toBe(204);
  await expect.poll(searchApi, { timeout: 10_000 }).toEqual(expect.arrayContaining([found, addressed.id]));

  // / focuses the field; the hits replace the list, newest first, the words marked.
  await page.keyboard.press('/');
  expect(await page.evaluate(() => document.activeElement?.dataset?.testid)).toBe('search');
  await page.keyboard.type(word.slice(0, -2));
  const hits = page.getByTestId('search-hit');
  await expect(hits).toHaveCount(3);
  await expect(page.getByTestId('conversation-list')).toBeHidden();
  expect(await hits.evaluateAll((els) => els.map((e) => e.dataset.id))).toEqual([addressed.id, addressed.id, found]);
  await expect(hits.nth(0)).toContainText("shopper's email");
  await expect(hits.nth(0).locator('mark')).toHaveText(word.slice(0, -2));
  await expect(hits.nth(2).locator('mark')).toHaveText(word);
  await expect(hits.nth(2)).toContainText('socks never came');
  await expect(page.locator(`[data-testid="search-hit"][data-id="${erased.id}"]`)).toHaveCount(0);
  // Two words: both must be in the message.
  await page.getByTestId('search').fill(`${word} socks`);
  await expect(hits).toHaveCount(1);
  await page.getByTestId('search').fill(`${word} shoes`);
  await expect(page.getByTestId('search-empty')).toContainText(`Nothing matches “${word} shoes”.`);
  // j moves through the hits, Enter opens one on its thread.
  await page.getByTestId('search').fill(word);
  await expect(hits).toHaveCount(3);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('conversation-list')).toBeVisible();
  await page.keyboard.press('/');
  await page.keyboard.type(`socks ${word}`);
  await expect(hits).toHaveCount(1);
  await page.getByTestId('search').blur();
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('thread-message')).toHaveCount(5);
  await expect(page.getByTestId('thread-message').first()).toContainText(`${word} socks`);
  expect(page.errors).toEqual([]);
  await merchant.close();
  for (const id of [found, addressed.id]) await agentCall(`/conversations/${id}/close`, {});
});

test('saved replies: the owner adds one, / picks it in the composer, variables filled, a missing one blocks sending until replaced; Sam reads them only', async ({ browser }) => {
  const shortcut = `thanks${Date.now().toString(36)}`;
  const id = await shopperConversation([unique('Saved replies question')], shopContext());
  const merchant = await browser.newContext();
  const { page } = await signIn(merchant, relay(), OWNER);

  // Added in the Saved replies view; bad input is explained and saves nothing.
  await page.getByTestId('replies-open').click();
  const view = page.getByTestId('saved-replies');
  await view.getByTestId('saved-reply-shortcut').fill('two words');
  await view.getByTestId('saved-reply-body').fill('x');
  await view.getByTestId('saved-reply-save').click();
  await expect(view.getByRole('alert')).toContainText('A shortcut is 1 to 32 letters');
  await view.getByTestId('saved-reply-shortcut').fill(shortcut);
  await view.getByTestId('saved-reply-body').fill('Dear {{customer.name}}');
  await view.getByTestId('saved-reply-save').click();
  await expect(view.getByRole('alert')).toContainText('{{customer.name}} is not a variable');
  await view.getByTestId('saved-reply-body').fill('Hi {{shopper.name}}, thanks for asking about {{page.title}} ({{cart.total}}). — {{agent.name}}');
  await view.getByTestId('saved-reply-save').click();
  await expect(view.getByTestId('saved-reply').filter({ hasText: `/${shortcut}` })).toHaveCount(1);
  await expect(view.getByRole('alert')).toHaveText('');
  await page.getByTestId('replies-open').click();

  // / and the shortcut's start in the composer; Enter takes it.
  await row(page, id).click();
  const composer = page.getByTestId('reply-composer');
  await composer.fill(`/${shortcut.slice(0, -2)}`);
  await expect(page.getByTestId('saved-reply-option').first()).toContainText(`/${shortcut}`);
  await composer.press('Enter');
  const filled = "Hi [shopper's name?], thanks for asking about Trail Runner 2 – Pigeon Outfitters (59.99 EUR). — Olivia";
  await expect(composer).toHaveValue(filled);
  await expect(page.getByTestId('saved-replies-picker')).toBeHidden();
  await expect(page.getByTestId('reply-unfilled')).toHaveText("Replace [shopper's name?] before sending.");
  // Not sent while the marker is there.
  await composer.press('Enter');
  await expect(page.locator('.composer .error')).toContainText("Replace [shopper's name?] before sending.");
  await expect(composer).toHaveValue(filled);
  expect((await agentCall(`/conversations/${id}/messages`)).json.messages).toHaveLength(1);
  // Replaced: sent as written.
  await composer.fill(filled.replace("[shopper's name?]", 'Nina'));
  await expect(page.getByTestId('reply-unfilled')).toHaveText('');
  await composer.press('Enter');
  await expect.poll(async () => (await agentCall(`/conversations/${id}/messages`)).json.messages.map((m) => m.body)).toContain(filled.replace("[shopper's name?]", 'Nina'));
  // Esc closes the list without leaving the field.
  await composer.fill('/');
  await expect(page.getByTestId('saved-replies-picker')).toBeVisible();
  await composer.press('Escape');
  await expect(page.getByTestId('saved-replies-picker')).toBeHidden();
  expect(await page.evaluate(() => document.activeElement?.dataset?.testid)).toBe('reply-composer');
  await composer.fill('');
  expect(page.errors).toEqual([]);

  // Sam sees them and cannot change them.
  const sam = await browser.newContext();
  const { page: him } = await signIn(sam, relay(), AGENT);
  await him.getByTestId('replies-open').click();
  await expect(him.getByTestId('saved-reply').filter({ hasText: `/${shortcut}` })).toHaveCount(1);
  await expect(him.getByTestId('saved-reply-save')).toBeHidden();
  await expect(him.getByTestId('saved-reply-delete')).toHaveCount(0);
  await expect(him.getByTestId('saved-replies')).toContainText('Only owners can change saved replies.');
  await sam.close();

  // Deleted by the owner: gone from the list.
  await page.getByTestId('replies-open').click();
  await page.getByTestId('saved-reply').filter({ hasText: `/${shortcut}` }).getByTestId('saved-reply-delete').click();
  await expect(page.getByTestId('saved-reply').filter({ hasText: `/${shortcut}` })).toHaveCount(0);
  await merchant.close();
  await agentCall(`/conversations/${id}/close`, {});
});

test('an internal note: Sam sees it live, marked; the shopper never does, not even after a reply', async ({ browser }) => {
  const shopper = await browser.newContext();
  const shopPage = new ShopPage(await shopper.newPage());
  await shopPage.goto();
  await shopPage.open();
  const question = unique('Is the blue jacket back in stock?');
  const { conversation } = await (await shopPage.send(question)).json();

  const [olivia, sam] = [await browser.newContext(), await browser.newContext()];
  const { page: her } = await signIn(olivia, relay(), OWNER);
  const { page: him } = await signIn(sam, relay(), AGENT);
  await row(him, conversation.id).click();
  await expect(him.getByTestId('thread-message')).toHaveCount(1);
  await row(her, conversation.id).click();
  await expect(her.getByTestId('thread-message')).toHaveCount(1);

  // n: the composer writes a note; Enter adds it.
  await her.keyboard.press('n');
  await expect(her.getByTestId('mode-note')).toHaveAttribute('aria-pressed', 'true');
  await expect(her.getByTestId('reply-send')).toHaveText('Add note');
  await expect(her.getByTestId('reply-no-email')).toBeHidden();
  const note = unique('Restock due Friday, do not promise a date');
  await her.keyboard.type(note);
  await her.keyboard.press('Enter');
  for (const page of [her, him]) {
    await expect(page.getByTestId('thread-note')).toHaveCount(1);
    await expect(page.getByTestId('thread-note')).toContainText(note);
    await expect(page.getByTestId('thread-note')).toContainText('Olivia · internal note');
  }
  await expect(her.getByTestId('thread-note')).not.toHaveAttribute('data-delivery', 'sending');

  // A reply after it reaches the shopper; the note never does.
  await her.getByTestId('mode-reply').click();
  await her.getByTestId('reply-composer').fill('Let me check for you.');
  await her.getByTestId('reply-send').click();
  await expect(shopPage.message('Let me check for you.')).toBeVisible();
  await expect(shopPage.page.getByText(note)).toHaveCount(0);
  await shopPage.page.reload();
  await shopPage.open();
  await expect(shopPage.message('Let me check for you.')).toBeVisible();
  await expect(shopPage.page.getByText(note)).toHaveCount(0);
  expect(her.errors).toEqual([]);
  expect(him.errors).toEqual([]);
  await Promise.all([olivia.close(), sam.close(), shopper.close()]);
  await agentCall(`/conversations/${conversation.id}/close`, {});
});

test('offline, the installed inbox opens and shows the last list it saw, and says it is offline', async ({ browser }) => {
  const id = await shopperConversation([unique('Offline check')], shopContext());
  const merchant = await browser.newContext();
  const { page } = await signIn(merchant, relay(), OWNER);
  await expect(row(page, id)).toBeVisible();
  // The service worker is installed and this page is under its control.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  await expect(row(page, id)).toBeVisible();
  const rowsOnline = await page.getByTestId('conversation-row').count();

  await merchant.setOffline(true);
  const response = await page.reload();
  expect(response?.fromServiceWorker(), 'the page came from the service worker').toBe(true);
  await expect(row(page, id)).toBeVisible();
  await expect(page.getByTestId('conversation-row')).toHaveCount(rowsOnline);
  await expect(page.locator('.stale')).toHaveText('Offline: showing what this browser last saw.');
  await expect(page.locator('.stale')).toBeVisible();
  await expect(page.getByTestId('live-state')).toHaveText('Reconnecting…');

  // Back online: live again, no longer stale.
  await merchant.setOffline(false);
  await page.reload();
  await expect(page.getByTestId('live-state')).toHaveText('Live');
  await expect(page.locator('.stale')).toBeHidden();
  await merchant.close();
});

test('sign out ends the session on the relay, not only in this browser', async ({ browser }) => {
  const merchant = await browser.newContext();
  const { page } = await signIn(merchant, relay(), AGENT);
  const cookie = (await sessionCookie(merchant)).value;
  const before = await inboxApi(cookie, '/v1/inbox/me');
  expect(before.status, before.text).toBe(200);
  expect(before.json.email).toBe(AGENT);
  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('inbox-login-email')).toBeVisible();
  await expect(page.getByRole('alert')).toHaveText('You are signed out.');
  // The old cookie, kept by someone, opens nothing.
  const after = await inboxApi(cookie, '/v1/inbox/me');
  expect([after.status, after.json?.error?.code]).toEqual([401, 'signed_out']);
  expect((await inboxApi(cookie, `/v1/inbox/sites/${site()}/conversations?status=open`)).status).toBe(401);
  expect((await merchant.cookies()).filter((c) => c.name === 'pigeon_inbox')).toEqual([]);
  // Nothing of the inbox is left in this browser's storage, and a reload shows the form.
  expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('pigeon-inbox:')))).toEqual([]);
  await page.reload();
  await expect(page.getByTestId('inbox-login-email')).toBeVisible();
  await merchant.close();
});

test('axe finds nothing on any view (sign-in, list, conversation, team, saved replies, settings, search, shortcuts), light and dark', async ({ browser }) => {
  const id = await shopperConversation([unique('Do these run small?'), 'And do you ship to Austria?'], shopContext());
  await agentCall(`/conversations/${id}/messages`, { client_id: 'axe-1', body: 'They fit true to size. See https://example.com/sizes', author_name: 'Ana' });
  // The inbox's CSP would refuse axe's script: this context (and only this one) bypasses it.
  const merchant = await browser.newContext({ bypassCSP: true });
  const violations = async (page, where) => {
    const out = [];
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      await page.evaluate(axeSource);
      const found = await page.evaluate(async () => (await window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      })).violations.map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`));
      out.push(...found.map((f) => `${where}, ${colorScheme}: ${f}`));
    }
    return out;
  };
  const found = [];
  const signInPage = await merchant.newPage();
  await signInPage.goto(inboxUrl());
  await expect(signInPage.getByTestId('inbox-login-email')).toBeVisible();
  found.push(...await violations(signInPage, 'sign-in'));
  await signInPage.close();

  const { page } = await signIn(merchant, relay(), OWNER);
  await expect(row(page, id)).toBeVisible();
  found.push(...await violations(page, 'list'));
  await row(page, id).click();
  await expect(page.getByTestId('thread-message')).toHaveCount(3);
  await expect(page.getByTestId('context-cart')).toBeVisible();
  found.push(...await violations(page, 'conversation'));
  // The views above the list, one at a time, and the search results and shortcut list.
  for (const [open, view] of [['team-open', 'team'], ['replies-open', 'saved-replies'], ['settings-open', 'settings']]) {
    await page.getByTestId(open).click();
    await expect(page.getByTestId(view)).toBeVisible();
    if (view === 'settings') await expect(page.getByTestId('settings-preview')).toContainText(/\w/);
    found.push(...await violations(page, view));
    await page.getByTestId(open).click();
    await expect(page.getByTestId(view)).toBeHidden();
  }
  await page.getByTestId('search').fill('true to size');
  await expect(page.getByTestId('search-hit').first()).toBeVisible();
  found.push(...await violations(page, 'search'));
  await page.getByTestId('search').fill('');
  await page.getByTestId('search').blur();
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts')).toBeVisible();
  found.push(...await violations(page, 'shortcuts'));
  expect(found).toEqual([]);
  await merchant.close();
});

// A token that is not all hex digits (a character edited, punctuation a mail or chat app glued
// to the link) reaches the relay and is refused with its sentence like any wrong link.
test('a link with a non-hex token is refused with the same sentence as any wrong link', async ({ browser }) => {
  const stranger = await browser.newContext();
  const page = await stranger.newPage();
  const hex = crypto.randomBytes(32).toString('hex');
  for (const token of [`${hex.slice(0, -1)}g`, `${hex})`]) {
    await page.goto(`${inboxUrl()}#signin=${token}`);
    await expect(page.getByTestId('inbox-login-email'), token).toBeVisible();
    await expect(page.getByRole('alert'), token).toHaveText(LINK_INVALID);
    expect(page.url()).not.toContain('#signin');
    await page.goto('about:blank');
  }
  await stranger.close();
});

test('the owner invites a teammate from the Team view, and removing them ends their inbox at once', async ({ browser }) => {
  const owner = await browser.newContext();
  const { page } = await signIn(owner, relay(), OWNER);
  const invitee = `e2e${Date.now().toString(36)}@pigeon-outfitters.test`;
  await page.getByTestId('team-open').click();
  await expect(page.getByTestId('teammate').first()).toBeVisible();
  await page.getByTestId('invite-name').fill('Noor');
  await page.getByTestId('invite-email').fill(invitee);
  await page.getByTestId('invite-send').click();
  await expect(page.getByTestId('teammate').filter({ hasText: invitee })).toContainText('Agent');

  // The invitation is a sign-in link; it opens the demo shop's inbox.
  const mail = await waitForMail(relay(), (m) => m.to === invitee && m.subject === 'Join Pigeon Outfitters on Pigeon', 15_000);
  expect(mail.text).toContain('Olivia invited you');
  const noorContext = await browser.newContext();
  const noor = await noorContext.newPage();
  await noor.goto(mail.text.match(/\S+\/inbox\/#signin=[0-9a-f]+/)[0]);
  await expect(noor.getByRole('heading', { level: 1 })).toHaveText('Pigeon Outfitters');
  await expect(noor.getByTestId('live-state')).toHaveText('Live');
  // Agents see the team but cannot change it.
  await noor.getByTestId('team-open').click();
  await expect(noor.getByTestId('invite-send')).toBeHidden();
  await expect(noor.getByTestId('teammate-remove')).toHaveCount(0);

  // Removed: their socket drops and their next request is refused.
  const cookie = (await sessionCookie(noorContext)).value;
  await page.getByTestId('teammate').filter({ hasText: invitee }).getByTestId('teammate-remove').click();
  await expect(page.getByTestId('teammate').filter({ hasText: invitee })).toHaveCount(0);
  await expect(noor.getByTestId('live-state')).toHaveText('Reconnecting…');
  expect((await inboxApi(cookie, `/v1/inbox/sites/${site()}/conversations?status=open`)).status).toBe(401);
  await owner.close();
  await noorContext.close();
});
