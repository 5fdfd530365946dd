// Personal API tokens (issue 18) in the inbox, against the real relay: a teammate makes one
// in Settings, sees its secret once, a script replies with it as that teammate, and
// "Revoke" ends it at once.
import { test, expect } from '@playwright/test';
import { relay } from './pigeon.mjs';
import { axeLightAndDark, shopperThread, signIn } from './inbox-helpers.mjs';

const AGENT = 'sam@pigeon-outfitters.test';

test('a teammate makes a token in Settings, a script replies with it as them, and Revoke ends it', async ({ browser }) => {
  const merchant = await browser.newContext({ bypassCSP: true });
  const { page } = await signIn(merchant, relay(), AGENT);
  await page.getByTestId('settings-open').click();
  const section = page.getByTestId('api-tokens');
  await expect(section).toBeVisible();
  // An agent has tokens of their own but no webhooks (owners only).
  await expect(page.getByTestId('webhooks')).toHaveCount(0);

  const name = `Order sync ${Date.now()}`;
  await section.getByTestId('api-token-name').fill(name);
  await section.getByTestId('api-token-add').click();
  await expect(section.getByTestId('api-token-secret')).toContainText('Copy it now');
  const secret = (await section.locator('[data-testid=api-token-secret] code').textContent()).trim();
  expect(secret).toMatch(/^pgn_pat_[0-9a-f]{64}$/);
  const row = section.getByTestId('api-token').filter({ hasText: name });
  await expect(row).toContainText('never used');
  await section.getByRole('button', { name: 'Done' }).click();
  await expect(section.getByTestId('api-token-secret')).toHaveCount(0);
  await expect(section).not.toContainText(secret);

  // A script replies with it: signed with Sam's name.
  const { id } = await shopperThread(['Do you ship to Norway?']);
  const post = (clientId) => fetch(`${relay()}/v1/agent/conversations/${id}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, body: 'We do, in 3 to 5 days.' }),
  });
  const sent = await post('script-1');
  const stored = await sent.json();
  expect(sent.status, JSON.stringify(stored)).toBe(201);
  expect(stored.message.author_name).toBe('Sam');

  // Seen again, the token says it was used.
  await page.reload();
  await page.getByTestId('settings-open').click();
  await expect(row).toContainText('last used');

  expect(await axeLightAndDark(page, '[data-testid=api-tokens]')).toEqual([]);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 375, height: 800 });
  await section.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/api-tokens-phone.png', fullPage: false });
  await page.setViewportSize({ width: 1280, height: 800 });

  // Revoke asks first; dismissed, nothing changes; accepted, the token stops at once.
  const answers = [false, true];
  const asked = [];
  page.on('dialog', (d) => { asked.push(d.message()); return answers.shift() ? d.accept() : d.dismiss(); });
  await row.getByTestId('api-token-revoke').click();
  await expect(row).toHaveCount(1);
  expect((await post('script-2')).status).toBe(201);
  await row.getByTestId('api-token-revoke').click();
  await expect(row).toHaveCount(0);
  expect(asked[0]).toContain(name);
  const refused = await post('script-3');
  expect(refused.status).toBe(401);
  expect((await refused.json()).error.code).toBe('unauthorized');
  expect(page.errors).toEqual([]);
});

test('Settings is a module of its own: not fetched before it opens, and a failed load says so and is tried again', async ({ browser }) => {
  const merchant = await browser.newContext({ bypassCSP: true });
  const fetched = [];
  merchant.on('request', (r) => { if (r.url().includes('/inbox/manage/')) fetched.push(r.url()); });
  // The first try fails as on a dropped connection.
  let refuse = true;
  await merchant.route('**/inbox/manage/**', (route) => (refuse ? route.abort('connectionreset') : route.continue()));
  const { page } = await signIn(merchant, relay(), AGENT);
  await expect(page.getByTestId('conversation-list')).toBeAttached();
  expect(fetched).toEqual([]);

  await page.getByTestId('settings-open').click();
  await expect(page.getByTestId('settings-unavailable')).toBeVisible();
  expect(fetched.length).toBeGreaterThan(0);
  refuse = false;
  await page.getByTestId('settings-open').click();
  await page.getByTestId('settings-open').click();
  await expect(page.getByTestId('api-tokens')).toBeVisible();
  await expect(page.getByTestId('settings-unavailable')).toBeHidden();
  // Closed and opened again: drawn once, not twice.
  await page.getByTestId('settings-open').click();
  await expect(page.getByTestId('settings')).toHaveCount(0);
  await page.getByTestId('settings-open').click();
  await expect(page.getByTestId('api-tokens')).toHaveCount(1);
  await expect(page.getByTestId('settings-name')).toHaveCount(1);
});
