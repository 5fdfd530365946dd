// The asynchronous loop end to end: the shopper writes and leaves; the merchant gets the
// email with the cart and answers from their mailbox; the shopper gets the answer by email
// and its link opens the thread in a browser that has never seen it.
import { test, expect } from '@playwright/test';
import { ShopPage, relay, shop } from './pigeon.mjs';
import { deliver, gmailReply, waitForMail } from '../harness/mailbox.mjs';

const MERCHANT = 'owner@pigeon-outfitters.test';

test('shopper leaves, merchant replies by email, the emailed link restores the thread in a fresh browser', async ({ browser }) => {
  // 1. The shopper adds to cart, asks, leaves an email address, and closes the tab.
  const first = await browser.newContext();
  const page = await first.newPage();
  const shopPage = new ShopPage(page);
  await shopPage.goto();
  await page.getByTestId('add-to-cart').click();
  await shopPage.open();
  const question = 'Do you ship the Trail Runner 2 to Austria?';
  const { conversation } = await (await shopPage.send(question)).json();
  await expect(shopPage.message(question)).toHaveAttribute('data-delivery', 'sent');
  await page.getByTestId('email-me').click();
  await page.getByTestId('email-input').fill('anna@example.com');
  await page.getByTestId('email-save').click();
  await expect(page.getByTestId('email-saved')).toContainText('anna@example.com');
  await first.close();

  // 2. The merchant's email arrives with the message and the cart.
  const forMerchant = await waitForMail(relay(), (m) => m.to === MERCHANT && m.replyAddress.includes(conversation.id));
  expect(forMerchant.text).toContain(question);
  expect(forMerchant.text).toContain('Cart (1 item, 59.99 EUR)');
  expect(forMerchant.text).toContain('1 x Trail Runner 2 (size 42)  59.99 EUR');
  expect(forMerchant.text).toContain('anna@example.com');

  // 3. The merchant replies from their mailbox, Gmail style, quote and all.
  const answer = 'Yes! Shipping to Austria takes 2-3 days.';
  const raw = gmailReply({ from: `Jo <${MERCHANT}>`, to: forMerchant.replyAddress, mail: forMerchant, body: `${answer}\n\nJo` });
  const delivered = await deliver(relay(), { from: MERCHANT, to: forMerchant.replyAddress, raw });
  expect(delivered.status, delivered.text).toBe(200);

  // 4. The shopper, gone, gets the answer by email with a link back to the shop.
  const forShopper = await waitForMail(relay(), (m) => m.to === 'anna@example.com' && m.replyAddress.includes(conversation.id));
  expect(forShopper.text).toContain(answer);
  expect(forShopper.text).not.toContain('wrote:');
  const link = forShopper.text.match(/Continue the conversation: (\S+)/)[1];
  expect(link.startsWith(`${shop()}/`)).toBe(true);

  // 5. Opened in a fresh browser profile: the thread is there, reply included, and the
  //    token is gone from the address bar.
  const fresh = await browser.newContext();
  const phone = await fresh.newPage();
  const phoneShop = new ShopPage(phone);
  await phone.goto(link);
  await expect(phoneShop.panel).toBeVisible();
  await expect(phoneShop.message(question)).toBeVisible();
  await expect(phoneShop.message(answer)).toBeVisible();
  await expect(phoneShop.message(answer)).toHaveAttribute('data-author', 'agent');
  expect(phone.url()).not.toContain('pigeon-resume');

  // 6. And it is a working thread there: a new message goes into the same conversation.
  await phoneShop.composer.fill('Great, ordering now.');
  await phoneShop.composer.press('Enter');
  await expect(phoneShop.message('Great, ordering now.')).toHaveAttribute('data-delivery', 'sent');
  // After a reload the browser still holds the thread (IndexedDB), without the link.
  await phone.reload();
  await phoneShop.launcher.click();
  await expect(phoneShop.message(answer)).toBeVisible();
  expect(phoneShop.errors).toEqual([]);
  await fresh.close();
});

test('an expired or edited resume link says so and loses nothing', async ({ page }) => {
  const shopPage = new ShopPage(page);
  await page.goto(`${shop()}/#pigeon-resume=${'0'.repeat(32)}.1.${'0'.repeat(32)}`);
  await expect(shopPage.panel).toBeVisible();
  await expect(page.getByTestId('error')).toContainText('no longer works');
  // The shopper can still start a conversation right there.
  await shopPage.composer.fill('Hello anyway');
  await shopPage.composer.press('Enter');
  await expect(shopPage.message('Hello anyway')).toHaveAttribute('data-delivery', 'sent');
});

test("the demo mailbox shows the merchant's email and answers it into the shopper's open chat", async ({ browser }) => {
  const shopper = await browser.newPage();
  const shopPage = new ShopPage(shopper);
  await shopPage.goto();
  await shopPage.open();
  const question = `Mailbox question ${Date.now()}`;
  await shopPage.send(question);
  await expect(shopPage.message(question)).toHaveAttribute('data-delivery', 'sent');

  const mailbox = await browser.newPage();
  await mailbox.goto(`${shop()}/mailbox`);
  // Nobody is assigned, so every teammate is told: Olivia (the owner) and Sam.
  const told = mailbox.getByTestId('mail').filter({ hasText: question });
  await expect(told).toHaveCount(2, { timeout: 20_000 });
  await expect(told.getByRole('button', { name: /Reply as sam@/ })).toHaveCount(1);
  const mail = told.filter({ has: mailbox.getByRole('button', { name: /Reply as owner@/ }) });
  await expect(mail).toBeVisible();
  await mail.getByRole('textbox').fill('Answered from the mailbox.');
  await mail.getByRole('button', { name: /Reply as owner@/ }).click();
  await expect(mailbox.getByRole('status')).toContainText('Delivered');
  await expect(shopPage.message('Answered from the mailbox.')).toBeVisible();
  expect(shopPage.errors).toEqual([]);
});
