// Ratings and the conversation's lifecycle settings (issue 17) in the inbox, against the real
// relay: the owner chooses in Settings; "Close and ask for a rating" leaves the rating link in
// the shopper's chat and emails five one-click links; the page a link opens takes the answer
// once (a forged link nothing); the inbox's details and Reports show it. Every view passes
// axe; the chat and the rating page are looked at on a phone.
import { test, expect } from '@playwright/test';
import { ShopPage, relay } from './pigeon.mjs';
import { axeLightAndDark, inboxApi, sessionCookie, signIn } from './inbox-helpers.mjs';
import { sentMail } from '../harness/mailbox.mjs';

const OWNER = 'owner@pigeon-outfitters.test';
const row = (page, id) => page.locator(`[data-testid="conversation-row"][data-id="${id}"]`);

test('The owner sets ratings, idle closing and the measured reply time in Settings', async ({ browser }) => {
  const merchant = await browser.newContext();
  const { page } = await signIn(merchant, relay(), OWNER);
  const cookie = (await sessionCookie(merchant)).value;
  const before = (await inboxApi(cookie, '/v1/inbox/sites/demo/settings')).json.settings;
  try {
    await page.getByTestId('settings-open').click();
    await expect(page.getByTestId('settings-ratings')).toHaveValue(before.ratings);
    await page.getByTestId('settings-ratings').selectOption('on');
    await page.getByTestId('settings-auto-close').fill('14');
    await page.getByTestId('settings-reply-time').selectOption('measured');
    // The preview: the median first response in business hours over the last 7 days, once 5
    // conversations were answered in them (the other tests answer many), else the shop's words.
    const today = await page.evaluate(() => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date()));
    const weekAgo = await page.evaluate(() => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date(Date.now() - 6 * 86_400_000)));
    const week = (await inboxApi(cookie, `/v1/inbox/sites/demo/metrics?from=${weekAgo}&to=${today}`)).json.first_response;
    const measured = week.count >= 5;
    await expect(page.getByTestId('settings-preview')).toContainText(measured ? 'Typically replies in' : before.expected_reply);
    await page.getByTestId('settings-save').click();
    await expect(page.getByTestId('settings-saved')).not.toBeEmpty();
    const saved = (await inboxApi(cookie, '/v1/inbox/sites/demo/settings')).json;
    expect([saved.settings.ratings, saved.settings.auto_close_days, saved.settings.reply_time]).toEqual(['on', 14, 'measured']);
    // What the widget's route answers now is what the preview said.
    expect(saved.widget.expected_reply.startsWith('Typically replies in')).toBe(measured);
    expect(await axeLightAndDark(page, '[data-testid=settings]')).toEqual([]);
    await page.emulateMedia({ colorScheme: 'light' });
    expect(page.errors).toEqual([]);
  } finally {
    // Put back, so the other tests see the demo as it was.
    const restored = await inboxApi(cookie, '/v1/inbox/sites/demo/settings', { method: 'PUT', body: before });
    expect(restored.status, restored.text).toBe(200);
    await merchant.close();
  }
});

test('Close and ask for a rating: the shopper rates from the chat in a tap, once; the email\'s links too; the inbox and Reports show it', async ({ browser }) => {
  // The shopper, on a phone: writes, leaves an address.
  const shopper = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const shop = new ShopPage(await shopper.newPage());
  await shop.goto();
  await shop.open();
  const { conversation } = await (await shop.send('The zip on my jacket broke on day two.')).json();
  const id = conversation.id;
  await shop.page.getByTestId('email-me').click();
  await shop.page.getByTestId('email-input').fill('rita@example.com');
  await shop.page.getByTestId('email-save').click();
  await expect(shop.page.getByTestId('email-saved')).toBeVisible();

  // The teammate closes, asking.
  const merchant = await browser.newContext();
  const { page } = await signIn(merchant, relay(), OWNER);
  const cookie = (await sessionCookie(merchant)).value;
  await expect(row(page, id)).toBeVisible({ timeout: 15_000 });
  await row(page, id).click();
  await expect(page.getByTestId('close-conversation')).toHaveText('Close');
  await page.getByTestId('close-ask-rating').click();
  await expect(page.getByTestId('context-rating-asked')).toBeVisible();
  await expect(page.getByTestId('reopen-conversation')).toBeVisible();
  // The team sees the note without its link: only the shopper can rate.
  await expect(page.getByTestId('thread')).toContainText("How did we do? Tell us here: [the shopper's rating link]");
  await expect(page.getByTestId('thread')).not.toContainText('/rate/');

  // The chat says so at once, from Pigeon, with the link.
  const note = shop.message('closed this conversation');
  await expect(note).toBeVisible({ timeout: 10_000 });
  await expect(note).toHaveAttribute('data-author', 'system');
  await expect(note).toContainText('How did we do?');
  await shop.page.screenshot({ path: test.info().outputPath('widget-rating-note-phone.png') });
  const [rate] = await Promise.all([shopper.waitForEvent('page'), note.getByRole('link').click()]);
  await rate.waitForLoadState();
  await expect(rate.getByRole('heading', { level: 1 })).toHaveText('How did we do?');
  expect(await axeLightAndDark(rate, 'main')).toEqual([]);
  await rate.emulateMedia({ colorScheme: 'light' });
  await rate.getByRole('radio', { name: '4 – happy' }).check();
  await rate.getByRole('radio', { name: '2 – easy' }).check();
  await rate.getByLabel('Anything to add? (optional)').fill('Quick and kind, thank you.');
  await rate.screenshot({ path: test.info().outputPath('rating-page-phone.png'), fullPage: true });
  await rate.getByRole('button', { name: 'Send' }).click();
  await expect(rate.getByRole('heading')).toHaveText('Thank you!');

  // The closing email asked the same: five links, worst first; a forged one opens nothing,
  // a genuine one says it was answered.
  let mail;
  await expect.poll(async () => (mail = (await sentMail(relay())).find((m) => m.to === 'rita@example.com' && m.subject === 'How did we do? — Pigeon Outfitters')), { timeout: 15_000 }).toBeTruthy();
  const links = [...mail.text.matchAll(/(\S+\/rate\/\S+\?s=(\d))/g)].map((m) => [m[1], m[2]]);
  expect(links.map(([, n]) => n)).toEqual(['1', '2', '3', '4', '5']);
  const one = links[0][0];
  const forged = one.replace(/\.([0-9a-f])([0-9a-f]*)\?s=1$/, (_, c, rest) => `.${c === '0' ? '1' : '0'}${rest}?s=1`);
  expect(forged).not.toBe(one);
  expect((await rate.goto(forged)).status()).toBe(404);
  await expect(rate.getByRole('heading')).toHaveText('This link does not work');
  expect((await rate.goto(one)).status()).toBe(200);
  await expect(rate.getByRole('radio', { name: '1 – very unhappy' })).toBeChecked();
  await rate.getByRole('button', { name: 'Send' }).click();
  await expect(rate.getByRole('heading')).toHaveText('You answered already');

  // The inbox: the rating in the details (opened again), and in Reports.
  await page.reload();
  await page.getByTestId('tab-closed').click();
  await row(page, id).click();
  await expect(page.getByTestId('context-rating')).toContainText('★★★★☆ 4/5 · effort 2/5');
  await expect(page.getByTestId('context-rating')).toContainText('Quick and kind, thank you.');
  expect(await axeLightAndDark(page, 'aside.about')).toEqual([]);
  await page.emulateMedia({ colorScheme: 'light' });
  const today = await page.evaluate(() => { const d = new Date(); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; });
  let m;
  await expect.poll(async () => (m = (await inboxApi(cookie, `/v1/inbox/sites/demo/metrics?from=${today}&to=${today}`)).json).ratings.rated, { timeout: 15_000 }).toBeGreaterThan(0);
  await page.getByTestId('reports-open').click();
  const reports = page.getByTestId('reports');
  await reports.getByTestId('reports-from').fill(today);
  await reports.getByTestId('reports-to').fill(today);
  await reports.getByTestId('reports-show').click();
  await expect(reports.getByTestId('reports-satisfaction')).toContainText(`${m.ratings.rated} ratings from ${m.ratings.asked} closes that asked`);
  await expect(reports.getByTestId('reports-ratings')).toContainText('4 of 5');
  expect(await axeLightAndDark(page, '[data-testid=reports]')).toEqual([]);
  expect(page.errors).toEqual([]);
  expect(shop.errors).toEqual([]);
  await shopper.close();
  await merchant.close();
});
