// Webhooks (issue 18), against the real relay: events go from the conversation's object
// through a real Queue (producer and consumer under wrangler dev) to an endpoint on this
// machine that checks every signature with the `standardwebhooks` package. The run's relay
// retries after 1, 2 and 2 s (global-setup), then gives up.
import { test, expect } from '@playwright/test';
import { relay, shop, site, agentKey } from './pigeon.mjs';
import { axeLightAndDark, inboxApi, shopperThread, signIn } from './inbox-helpers.mjs';
import { inboxCookie, waitForMail } from '../harness/mailbox.mjs';
import { startEndpoint, Webhook } from '../harness/webhooks.mjs';

const OWNER = 'owner@pigeon-outfitters.test';
const AGENT = 'sam@pigeon-outfitters.test';

test.describe.configure({ mode: 'serial' });

let owner;
let endpoint;
const made = [];

test.beforeAll(async () => {
  owner = (await inboxCookie(relay(), OWNER)).split('=')[1];
  endpoint = await startEndpoint();
});

test.afterAll(async () => {
  // The demo site's other tests must not keep sending here.
  for (const id of made) await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks/${id}`, { method: 'DELETE' });
  await endpoint?.close();
});

async function addEndpoint(body) {
  const r = await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks`, { method: 'POST', body });
  expect(r.status, r.text).toBe(201);
  made.push(r.json.endpoint.id);
  return r.json;
}

/// The verified deliveries of `conversation`, in the order they were answered 2xx.
const deliveredOf = (conversation) => endpoint.delivered().filter((r) => r.payload.data.conversation_id === conversation);

const shopperHeaders = (token) => ({ 'content-type': 'application/json', origin: shop(), authorization: `Bearer ${token}` });

test('an owner adds an endpoint: every event of a conversation arrives signed, once, in order, never an internal note', async () => {
  // Bad input is refused with a reason, and nothing is made.
  for (const [body, code] of [
    [{ url: 'ftp://hooks.example/x' }, 'invalid_url'],
    [{ url: 'https://user:pw@hooks.example/x' }, 'invalid_url'],
    [{ url: endpoint.url, events: ['message.sent'] }, 'unknown_event'],
    [{ url: endpoint.url, description: 'x'.repeat(201) }, 'description_too_long'],
  ]) {
    const r = await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks`, { method: 'POST', body });
    expect(r.status, r.text).toBe(422);
    expect(r.json.error.code).toBe(code);
  }
  // Only owners manage endpoints.
  const sam = (await inboxCookie(relay(), AGENT)).split('=')[1];
  const refused = await inboxApi(sam, `/v1/inbox/sites/${site()}/webhooks`, { method: 'POST', body: { url: endpoint.url } });
  expect(refused.status).toBe(403);

  const saved = await addEndpoint({ url: endpoint.url, description: 'Order system' });
  expect(saved.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  endpoint.secret = saved.secret;
  expect(saved.endpoint).toMatchObject({ url: endpoint.url, events: [], enabled: true, description: 'Order system' });
  // The list never shows the secret again; the agent key sees the same list.
  const listed = await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks`);
  expect(listed.text).not.toContain(saved.secret);
  const byKey = await fetch(`${relay()}/v1/agent/sites/${site()}/webhooks`, { headers: { authorization: `Bearer ${agentKey()}` } });
  expect(byKey.status).toBe(200);
  expect((await byKey.json()).endpoints.map((e) => e.id)).toContain(saved.endpoint.id);
  expect((await fetch(`${relay()}/v1/agent/sites/${site()}/webhooks`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);

  // A conversation's life: two messages, an address, a reply, a note, closed, written again.
  const { id, token } = await shopperThread(['Hello!', 'Is the blue jacket in stock?']);
  const contact = await fetch(`${relay()}/v1/conversations/${id}/contact`, { method: 'PUT', headers: shopperHeaders(token), body: JSON.stringify({ email: 'ann@example.test' }) });
  expect(contact.status).toBe(204);
  const reply = await fetch(`${relay()}/v1/agent/conversations/${id}/messages`, { method: 'POST', headers: { authorization: `Bearer ${agentKey()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'hook-reply', body: 'Yes, in M and L.', author_name: 'Olivia' }) });
  expect(reply.status).toBe(201);
  const note = await inboxApi(owner, `/v1/inbox/conversations/${id}/notes`, { method: 'POST', body: { client_id: 'hook-note', body: 'SECRET-NOTE check the stock room' } });
  expect(note.status, note.text).toBe(201);
  expect((await fetch(`${relay()}/v1/agent/conversations/${id}/close`, { method: 'POST', headers: { authorization: `Bearer ${agentKey()}` } })).status).toBe(204);
  const again = await fetch(`${relay()}/v1/conversations/${id}/messages`, { method: 'POST', headers: shopperHeaders(token), body: JSON.stringify({ client_id: 's-again', body: 'One more thing' }) });
  expect(again.status).toBe(201);

  // The close leaves a note from Pigeon in the thread (the shopper's widget shows it closed).
  const expected = ['conversation.created', 'message.created', 'message.created', 'contact.updated', 'message.created', 'conversation.closed', 'message.created', 'conversation.reopened', 'message.created'];
  await expect.poll(() => deliveredOf(id).length, { timeout: 20_000 }).toBe(expected.length);
  const got = deliveredOf(id);
  expect(got.map((r) => r.payload.type)).toEqual(expected);
  expect(got.filter((r) => r.payload.type === 'message.created').map((r) => [r.payload.data.message.author, r.payload.data.message.body]))
    .toEqual([['shopper', 'Hello!'], ['shopper', 'Is the blue jacket in stock?'], ['agent', 'Yes, in M and L.'],
      ['system', 'Pigeon Outfitters closed this conversation; just write again to reopen it.'], ['shopper', 'One more thing']]);
  expect(got[3].payload.data.email).toBe('ann@example.test');
  expect(got.every((r) => r.payload.data.site_id === site())).toBe(true);
  // One id per event, the same shape as the specification's (`type`, `timestamp`, `data`).
  expect(new Set(got.map((r) => r.id)).size).toBe(expected.length);
  expect(Object.keys(got[0].payload).sort()).toEqual(['data', 'timestamp', 'type']);
  expect(endpoint.received.filter((r) => r.error)).toEqual([]);
  expect(endpoint.received.some((r) => r.body.includes('SECRET-NOTE'))).toBe(false);

  // A captured delivery replayed later is recognisable: the library refuses its timestamp,
  // and its id is one the endpoint has seen.
  const captured = got[1];
  const realNow = Date.now;
  Date.now = () => realNow() + 10 * 60_000;
  try {
    expect(() => new Webhook(endpoint.secret).verify(captured.body, captured.headers)).toThrow(/too old/);
  } finally {
    Date.now = realNow;
  }
  // A forged body does not verify.
  expect(() => new Webhook(endpoint.secret).verify(captured.body.replace('Hello!', 'Hullo!'), captured.headers)).toThrow(/signature/);

  // The log shows each delivered once.
  const log = await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks/${saved.endpoint.id}/deliveries`);
  expect(log.status).toBe(200);
  const mine = log.json.deliveries.filter((d) => d.conversation === id);
  expect(mine).toHaveLength(expected.length);
  expect(mine.every((d) => d.state === 'delivered' && d.attempts === 1 && d.last_status === 204)).toBe(true);

  // Erasing the conversation erases its deliveries from the log.
  expect((await fetch(`${relay()}/v1/conversations/${id}`, { method: 'DELETE', headers: shopperHeaders(token) })).status).toBe(204);
  const after = await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks/${saved.endpoint.id}/deliveries`);
  expect(after.json.deliveries.filter((d) => d.conversation === id)).toEqual([]);
});

test('a failing endpoint is tried again with the same id, and the events after it wait their turn', async () => {
  endpoint.failNext(2, 503);
  const { id } = await shopperThread(['First', 'Second', 'Third']);
  await expect.poll(() => deliveredOf(id).length, { timeout: 30_000 }).toBe(4);
  expect(deliveredOf(id).map((r) => r.payload.type === 'message.created' ? r.payload.data.message.body : r.payload.type))
    .toEqual(['conversation.created', 'First', 'Second', 'Third']);
  // The first event was refused twice, then delivered: three tries, one id; nothing after it
  // came before it was delivered.
  const first = deliveredOf(id)[0];
  const tries = endpoint.received.filter((r) => r.id === first.id);
  expect(tries.map((r) => r.status)).toEqual([503, 503, 204]);
  const firstOk = tries[2].at;
  expect(endpoint.received.filter((r) => r.payload?.data.conversation_id === id && r.id !== first.id).every((r) => r.at >= firstOk)).toBe(true);
  const [ep] = made;
  const log = await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks/${ep}/deliveries`);
  const created = log.json.deliveries.find((d) => d.event_id === first.id);
  expect(created).toMatchObject({ state: 'delivered', attempts: 3, last_status: 204 });
});

test('an endpoint that keeps failing (a redirect, never followed) is switched off and its owner emailed; switched on, "send again" delivers', async () => {
  endpoint.failAlways(302);
  const { id } = await shopperThread(['Anyone there?']);
  const [ep] = made;
  let listed;
  await expect.poll(async () => {
    listed = (await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks`)).json.endpoints.find((e) => e.id === ep);
    return listed.enabled;
  }, { timeout: 30_000 }).toBe(false);
  expect(listed.disabled_reason).toContain('302');
  expect(endpoint.received.filter((r) => r.path === '/followed')).toEqual([]);
  expect(listed.failing_since).toBeTruthy();
  const mail = await waitForMail(relay(), (m) => m.to === OWNER && m.subject.startsWith('Webhook switched off'));
  expect(mail.text).toContain(endpoint.url);
  // Four tries of the first event (after 1, 2 and 2 s), then it and everything after it given up.
  const log = (await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks/${ep}/deliveries`)).json.deliveries.filter((d) => d.conversation === id);
  expect(log.map((d) => d.state)).toEqual(['failed', 'failed']);
  const first = log.find((d) => d.type === 'conversation.created');
  expect(first.attempts).toBe(4);
  // Off: new events are not sent to it, and sending again is refused until it is on.
  const resendOff = await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks/${ep}/deliveries/${first.id}/resend`, { method: 'POST' });
  expect(resendOff.status).toBe(422);
  expect(resendOff.json.error.code).toBe('endpoint_off');

  endpoint.failAlways(null);
  const on = await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks/${ep}`, { method: 'PATCH', body: { enabled: true } });
  expect(on.status, on.text).toBe(200);
  expect(on.json.endpoint).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
  for (const d of [...log].reverse()) {
    const r = await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks/${ep}/deliveries/${d.id}/resend`, { method: 'POST' });
    expect(r.status, r.text).toBe(202);
  }
  await expect.poll(() => deliveredOf(id).map((r) => r.payload.type), { timeout: 20_000 }).toEqual(['conversation.created', 'message.created']);
  // An endpoint that is not the site's is not found.
  const missing = await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks/ep_nope/deliveries`);
  expect(missing.status).toBe(404);
});

test('in the inbox: Settings lists the endpoints; an owner adds one, copies its secret once, reads its log and switches it off', async ({ browser }) => {
  // The endpoints made above go; this one is made in the page.
  for (const id of made.splice(0)) await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks/${id}`, { method: 'DELETE' });
  const merchant = await browser.newContext({ bypassCSP: true });
  const { page } = await signIn(merchant, relay(), OWNER);
  await page.getByTestId('settings-open').click();
  const hooks = page.getByTestId('webhooks');
  await expect(hooks).toBeVisible();
  await expect(hooks.getByTestId('webhook')).toHaveCount(0);

  // A private address typed in production would be refused; a bad one is refused here too.
  await hooks.getByTestId('webhook-url').fill('http://user:pw@hooks.example/x');
  await hooks.getByTestId('webhook-add').click();
  await expect(hooks.getByTestId('webhooks-error')).toContainText('user name or password');

  await hooks.getByTestId('webhook-url').fill(endpoint.url);
  await hooks.getByTestId('webhook-description').fill('Slack alerts');
  await hooks.getByLabel('message.created').check();
  await hooks.getByTestId('webhook-add').click();
  await expect(hooks.getByTestId('webhook-secret')).toContainText('Copy it now');
  endpoint.secret = (await hooks.locator('[data-testid=webhook-secret] code').textContent()).trim();
  expect(endpoint.secret).toMatch(/^whsec_/);
  await expect(hooks.getByTestId('webhook')).toHaveCount(1);
  made.push(await hooks.getByTestId('webhook').getAttribute('data-id'));
  await expect(hooks.getByTestId('webhook')).toContainText('message.created');
  await expect(hooks.getByTestId('webhook-state')).toHaveText('On.');

  // "Send test event": signed like any delivery, answered at once, not logged.
  await hooks.getByTestId('webhook-test').click();
  await expect(hooks.getByTestId('webhook-tested')).toContainText(/Test event delivered: the endpoint answered 204 in \d+ ms\./);
  const test = endpoint.delivered().filter((r) => r.payload.type === 'webhook.test');
  expect(test.map((r) => [r.id.startsWith('evt_test_'), r.payload.data.endpoint])).toEqual([[true, made.at(-1)]]);

  // Only the chosen type is sent.
  const { id } = await shopperThread(['Sent from the settings test']);
  await expect.poll(() => deliveredOf(id).map((r) => r.payload.type), { timeout: 20_000 }).toEqual(['message.created']);
  await hooks.getByTestId('webhook-log').click();
  await expect(hooks.getByTestId('delivery').first()).toContainText('Delivered (1 try) — 204');
  await page.setViewportSize({ width: 375, height: 800 });
  await hooks.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/webhooks-settings-phone.png', fullPage: false });
  await page.setViewportSize({ width: 1280, height: 800 });

  expect(await axeLightAndDark(page, '[data-testid=webhooks]')).toEqual([]);

  await hooks.getByTestId('webhook-toggle').click();
  await expect(hooks.getByTestId('webhook-state')).toHaveText('Off.');
  const listed = (await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks`)).json.endpoints;
  expect(listed.map((e) => e.enabled)).toEqual([false]);
  expect(page.errors).toEqual([]);

  // The daily clean-up empties the log of finished deliveries (this run keeps them 0 days).
  const logOf = async () => (await inboxApi(owner, `/v1/inbox/sites/${site()}/webhooks/${listed[0].id}/deliveries`)).json.deliveries;
  expect((await logOf()).length).toBeGreaterThan(0);
  expect((await fetch(`${relay()}/cdn-cgi/local/scheduled?cron=17+3+*+*+*`)).status).toBeLessThan(300);
  await expect.poll(logOf).toEqual([]);
  await merchant.close();
});
