// The team's settings and notifications (issue 15), against the real relay: Olivia (owner)
// and Sam (agent) in two browser contexts. Settings changed in the inbox reach the widget;
// Sam reads them only. Web Push goes to a push service on this machine (`web-push-testing`,
// which checks each push's VAPID signature and decrypts it with `http_ece`): delivered and
// readable, without the message's text unless asked for, never to the teammate looking at the
// conversation, only to the assignee once there is one; a device the service says is gone is
// forgotten.
import { test, expect } from '@playwright/test';
import { ShopPage, relay } from './pigeon.mjs';
import { inboxApi, sessionCookie, shopperThread, signIn } from './inbox-helpers.mjs';
import { startPushService, vapidClaims } from '../harness/push.mjs';

const OWNER = 'owner@pigeon-outfitters.test';
const AGENT = 'sam@pigeon-outfitters.test';

test.describe.configure({ mode: 'serial' });

/// Settings as the relay has them, through Olivia's session.
async function settingsOf(cookie) {
  const r = await inboxApi(cookie, '/v1/inbox/sites/demo/settings');
  expect(r.status, r.text).toBe(200);
  return r.json.settings;
}

async function putSettings(cookie, settings) {
  const r = await inboxApi(cookie, '/v1/inbox/sites/demo/settings', { method: 'PUT', body: settings });
  expect(r.status, r.text).toBe(200);
  return r.json;
}

test('an owner changes the settings in the inbox and the widget shows them; an agent reads them only', async ({ browser }) => {
  const olivia = await browser.newContext();
  const { page } = await signIn(olivia, relay(), OWNER);
  const cookie = (await sessionCookie(olivia)).value;
  const before = await settingsOf(cookie);
  try {
    await page.getByTestId('settings-open').click();
    const form = page.getByTestId('settings');
    await expect(form.getByTestId('settings-name')).toHaveValue(before.name);
    await expect(form.getByTestId('settings-readonly')).toBeHidden();
    const greeting = `Hello from the settings page ${Date.now().toString(36)}`;
    await form.getByTestId('settings-greeting').fill(greeting);

    // Closed all week: the preview says what the widget will say, before saving.
    await form.getByTestId('settings-always').uncheck();
    for (let i = 0; i < 7; i++) await form.getByTestId(`hours-${i}`).fill('');
    await form.getByTestId('settings-zone').fill('Europe/Berlin');
    await form.getByTestId('settings-zone').dispatchEvent('change');
    await expect(form.getByTestId('settings-preview')).toContainText("We're away right now");
    // Open every day, all day, except on a holiday today: still away, until tomorrow.
    for (let i = 0; i < 7; i++) await form.getByTestId(`hours-${i}`).fill('00:00-24:00');
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date());
    await form.getByTestId('settings-holidays').fill(today);
    await form.getByTestId('settings-holidays').dispatchEvent('change');
    await expect(form.getByTestId('settings-preview')).toContainText("We're away until");
    await form.getByTestId('settings-holidays').fill('');
    await form.getByTestId('settings-holidays').dispatchEvent('change');
    await expect(form.getByTestId('settings-preview')).toContainText(before.expected_reply);

    // A zone the relay does not know is refused with a sentence; nothing is stored.
    await form.getByTestId('settings-zone').fill('Mars/Olympus_Mons');
    await form.getByTestId('settings-save').click();
    await expect(page.getByTestId('settings-error')).toContainText('not a time zone');
    expect((await settingsOf(cookie)).greeting).toBe(before.greeting);

    await form.getByTestId('settings-zone').fill('Europe/Berlin');
    await form.getByTestId('settings-save').click();
    await expect(form.getByTestId('settings-saved')).toContainText('Saved');
    const stored = await settingsOf(cookie);
    expect(stored.greeting).toBe(greeting);
    expect(stored.business_hours.days).toHaveLength(7);

    // The shopper's widget greets with it.
    const shopper = await browser.newContext();
    const shopPage = new ShopPage(await shopper.newPage());
    await shopPage.goto();
    await shopPage.launcher.click();
    await expect(shopPage.panel).toContainText(greeting);
    await shopper.close();

    // Sam sees the settings and cannot change them, in the page or through the API.
    const sam = await browser.newContext();
    const samPage = (await signIn(sam, relay(), AGENT)).page;
    await samPage.getByTestId('settings-open').click();
    await expect(samPage.getByTestId('settings-readonly')).toBeVisible();
    await expect(samPage.getByTestId('settings-save')).toBeHidden();
    await expect(samPage.getByTestId('settings-greeting')).toBeDisabled();
    await expect(samPage.getByTestId('settings-greeting')).toHaveValue(greeting);
    const refused = await inboxApi((await sessionCookie(sam)).value, '/v1/inbox/sites/demo/settings', { method: 'PUT', body: { ...stored, greeting: 'Sam was here' } });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('owner_only');
    await sam.close();

    // Bad input through the API: each refused with a code and a sentence.
    for (const bad of [{ brand_color: 'red' }, { origins: ['javascript:alert(1)'] }, { retention_days: 0 }, { push_delay_seconds: -1 }]) {
      const r = await inboxApi(cookie, '/v1/inbox/sites/demo/settings', { method: 'PUT', body: { ...stored, ...bad } });
      expect(r.status, JSON.stringify(bad)).toBeGreaterThanOrEqual(400);
      expect(r.status, JSON.stringify(bad)).toBeLessThan(500);
    }
    expect((await settingsOf(cookie)).greeting).toBe(greeting);
  } finally {
    await putSettings(cookie, before);
    await olivia.close();
  }
});

test('a late preview answer never overwrites the answer to a newer question', async ({ browser }) => {
  const olivia = await browser.newContext();
  const { page } = await signIn(olivia, relay(), OWNER);
  const before = await settingsOf((await sessionCookie(olivia)).value);
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date());
  // The relay's answer for "closed today" is held back until the next question has been
  // answered, as a slow network or a slow measurement can do.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/settings/preview', async (route) => {
    const asked = route.request().postDataJSON();
    if (!(asked.business_hours?.holidays || []).includes(today)) return route.continue();
    const answer = await route.fetch();
    await held;
    await route.fulfill({ response: answer });
  });
  try {
    await page.getByTestId('settings-open').click();
    const form = page.getByTestId('settings');
    await expect(form.getByTestId('settings-name')).toHaveValue(before.name);
    await form.getByTestId('settings-always').uncheck();
    for (let i = 0; i < 7; i++) await form.getByTestId(`hours-${i}`).fill('00:00-24:00');
    await form.getByTestId('settings-zone').fill('Europe/Berlin');
    await form.getByTestId('settings-holidays').fill(today);
    const late = page.waitForResponse((r) => r.url().endsWith('/settings/preview') && (r.request().postDataJSON().business_hours?.holidays || []).includes(today));
    await form.getByTestId('settings-holidays').dispatchEvent('change');
    await form.getByTestId('settings-holidays').fill('');
    const fresh = page.waitForResponse((r) => r.url().endsWith('/settings/preview') && !(r.request().postDataJSON().business_hours?.holidays || []).length);
    await form.getByTestId('settings-holidays').dispatchEvent('change');
    await (await fresh).finished();
    await expect(form.getByTestId('settings-preview')).toContainText(before.expected_reply);
    release();
    await (await late).finished();
    // The old answer ("away until tomorrow") arrived last and is not shown.
    await page.waitForTimeout(1000);
    await expect(form.getByTestId('settings-preview')).toContainText(before.expected_reply);
    await expect(form.getByTestId('settings-preview')).not.toContainText("We're away");
  } finally {
    await olivia.close();
  }
});

/// A context signed in as `email` whose browser subscribes to the local push service: the
/// Push API needs a vendor's push service, which headless Chromium cannot reach here, so
/// `pushManager.subscribe` answers with a subscription from `web-push-testing` instead.
async function teammateWithPush(browser, email, push, publicKey) {
  const context = await browser.newContext();
  await context.grantPermissions(['notifications'], { origin: relay() });
  const subscription = await push.subscribe(publicKey);
  await context.addInitScript((sub) => {
    const fake = { endpoint: sub.endpoint, toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }), unsubscribe: async () => true };
    let subscribed = false;
    if (self.PushManager) {
      PushManager.prototype.subscribe = async function () { subscribed = true; return fake; };
      PushManager.prototype.getSubscription = async function () { return subscribed ? fake : null; };
    }
  }, subscription);
  const { page } = await signIn(context, relay(), email);
  await page.getByTestId('settings-open').click();
  await page.getByTestId('push-enable').click();
  // The note says why when it does not turn on.
  const shown = async () => `${await page.getByTestId('push-devices').textContent()} | ${await page.getByTestId('profile-note').textContent()}`;
  await expect.poll(shown, { timeout: 15_000 }).toContain('Push is on for this device');
  return { context, page, subscription, cookie: (await sessionCookie(context)).value };
}

test('push: delivered, verified and decrypted; no text unless asked; not to the one looking; only the assignee', async ({ browser }) => {
  const push = await startPushService();
  const olivia0 = await browser.newContext();
  await signIn(olivia0, relay(), OWNER);
  const ownerCookie = (await sessionCookie(olivia0)).value;
  const info = await inboxApi(ownerCookie, '/v1/inbox/push');
  expect(info.status).toBe(200);
  const publicKey = info.json.public_key;
  expect(publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
  const before = await settingsOf(ownerCookie);
  const delivered = async (who) => push.messages(who.subscription.clientHash);
  try {
    await putSettings(ownerCookie, { ...before, push_delay_seconds: 1 });
    const olivia = await teammateWithPush(browser, OWNER, push, publicKey);
    const sam = await teammateWithPush(browser, AGENT, push, publicKey);

    // 1. Nobody assigned, nobody looking: both get it, without the text.
    const secret = `my order number is 4471 ${Date.now()}`;
    const { id, token } = await shopperThread([secret]);
    await expect.poll(async () => (await delivered(sam)).length, { timeout: 20_000 }).toBe(1);
    await expect.poll(async () => (await delivered(olivia)).length).toBe(1);
    const [first] = await delivered(sam);
    expect(first).toMatchObject({ title: 'Pigeon Outfitters', conversation: id, site: 'demo', count: 1, body: 'New message from a shopper', url: `/inbox/#conversation=${id}` });
    expect(JSON.stringify(first)).not.toContain('4471');
    // What the push service would hand the browser, given to Sam's service worker: it shows
    // the notification, which opens the conversation.
    expect(await notificationsShown(sam.page, first)).toEqual([{ title: 'Pigeon Outfitters', body: 'New message from a shopper', url: `/inbox/#conversation=${id}` }]);

    // Every push was signed for this service's origin, expires within a day, names us, and
    // carries the relay's key; the service verified the signature and decrypted the body.
    expect(push.seen.length).toBeGreaterThanOrEqual(2);
    for (const s of push.seen) {
      expect(s.ok, 'verified and decrypted').toBe(true);
      expect(s.headers.encoding).toBe('aes128gcm');
      const vapid = vapidClaims(s.headers.authorization);
      expect(vapid.header.alg).toBe('ES256');
      expect(vapid.key).toBe(publicKey);
      expect(vapid.claims.aud).toBe(push.url);
      expect(vapid.claims.sub).toBe('mailto:notify@mail.pigeon.test');
      expect(vapid.claims.exp * 1000 - Date.now()).toBeGreaterThan(60_000);
      expect(vapid.claims.exp * 1000 - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
    }

    // 2. Olivia looks at the conversation (her read marks held back, so only "looking" keeps
    // her from being told): Sam, who chose to see text, gets it with the text; she does not.
    const samProfile = await inboxApi(sam.cookie, '/v1/inbox/me/profile', { method: 'PUT', body: { notify: 'both', push_preview: true } });
    expect(samProfile.status, samProfile.text).toBe(200);
    await olivia.page.route('**/v1/inbox/conversations/*/read', (route) => route.abort());
    await olivia.page.getByTestId('settings-open').click();
    await olivia.page.locator(`[data-testid="conversation-row"][data-id="${id}"]`).click();
    await expect(olivia.page.getByTestId('thread-message').first()).toContainText('4471');
    await shopperSays(id, token, 'second: the parcel is damaged');
    await expect.poll(async () => (await delivered(sam)).length, { timeout: 20_000 }).toBe(2);
    expect((await delivered(sam))[1].body).toBe('second: the parcel is damaged');
    await olivia.page.waitForTimeout(2_500);
    expect(await delivered(olivia)).toHaveLength(1);

    // 3. Assigned to Sam, and Olivia no longer looking: only Sam hears.
    await olivia.page.goto(`${relay()}/inbox/`);
    const assigned = await inboxApi(ownerCookie, `/v1/inbox/conversations/${id}/assignee`, { method: 'PUT', body: { assignee: AGENT } });
    expect(assigned.status, assigned.text).toBe(204);
    await shopperSays(id, token, 'third: hello?');
    await expect.poll(async () => (await delivered(sam)).length, { timeout: 20_000 }).toBe(3);
    await olivia.page.waitForTimeout(2_500);
    expect(await delivered(olivia)).toHaveLength(1);

    // 4. Sam's device is gone at the push service (410): the relay forgets it.
    await push.expire(sam.subscription.clientHash);
    await shopperSays(id, token, 'fourth: anyone?');
    await expect.poll(async () => (await inboxApi(sam.cookie, '/v1/inbox/push')).json.devices, { timeout: 20_000 }).toBe(0);
    await olivia.context.close();
    await sam.context.close();
  } finally {
    await putSettings(ownerCookie, before);
    await olivia0.close();
    await push.close();
  }
});

/// Delivers `payload` to the inbox's service worker as a push message (Chromium's DevTools
/// protocol; the real push service is out of reach here) and answers the notifications it
/// then shows.
async function notificationsShown(page, payload) {
  const cdp = await page.context().newCDPSession(page);
  const registrations = new Map();
  const activated = new Set();
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => e.registrations.forEach((r) => registrations.set(r.registrationId, r)));
  cdp.on('ServiceWorker.workerVersionUpdated', (e) => e.versions.forEach((v) => v.status === 'activated' && activated.add(v.registrationId)));
  await cdp.send('ServiceWorker.enable');
  const inbox = () => [...registrations.values()].find((r) => r.scopeURL === `${relay()}/inbox/` && !r.isDeleted && activated.has(r.registrationId));
  await expect.poll(() => inbox()?.registrationId ?? null).not.toBeNull();
  const shown = () => page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, url: n.data?.url })));
  // A worker that was stopped may drop the first delivery while it starts: deliver again
  // until it shows (the notification's tag is the conversation, so a repeat replaces it).
  for (let i = 0; i < 10 && (await shown()).length === 0; i++) {
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: relay(), registrationId: inbox().registrationId, data: JSON.stringify(payload) });
    await expect.poll(async () => (await shown()).length, { timeout: 1_500 }).toBeGreaterThan(0).catch(() => {});
  }
  await cdp.detach();
  return shown();
}

/// The shopper writes again (as the widget posts, from the shop's origin).
async function shopperSays(id, token, body) {
  const res = await fetch(`${relay()}/v1/conversations/${id}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: process.env.PIGEON_SHOP, authorization: `Bearer ${token}` },
    body: JSON.stringify({ client_id: `t-${Date.now()}-${Math.random().toString(36).slice(2)}`, body }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}
