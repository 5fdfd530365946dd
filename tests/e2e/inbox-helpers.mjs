// Inbox helpers shared by the inbox's end-to-end tests: signing a teammate in through the
// mail the relay sent, calling the inbox API with a session cookie, a shopper's conversation
// made through the browser API.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { expect } from '@playwright/test';
import { relay, shop, site } from './pigeon.mjs';
import { sentMail } from '../harness/mailbox.mjs';

export const SIGNIN_SUBJECT = 'Your Pigeon sign-in link';

/// The sign-in mails the relay sent to `email`, oldest first.
export async function signinMails(relayUrl, email) {
  return (await sentMail(relayUrl)).filter((m) => m.to === email && m.subject === SIGNIN_SUBJECT);
}

/// Asks for a sign-in link in the inbox's form (in a page of `context`) and returns the link
/// from the mail the relay sent for it: the newest one to `email` after the request.
export async function requestLink(context, relayUrl, email) {
  const page = await context.newPage();
  await page.goto(`${relayUrl}/inbox/`);
  await page.getByTestId('inbox-login-email').fill(email);
  const before = (await signinMails(relayUrl, email)).length;
  await page.getByTestId('inbox-login-submit').click();
  await expect(page.getByTestId('inbox-login-sent')).toContainText(email);
  let mails = [];
  await expect.poll(async () => (mails = await signinMails(relayUrl, email)).length, { timeout: 15_000 }).toBeGreaterThan(before);
  await page.close();
  const link = mails[mails.length - 1].text.match(/\S+\/inbox\/#signin=[0-9a-f]+/)?.[0];
  expect(link, 'the sign-in mail has a link').toBeTruthy();
  expect(link.startsWith(`${relayUrl}/inbox/#signin=`)).toBe(true);
  return link;
}

/// Signs `email` in to the inbox in `context`: the form, the mail the relay sent, its link
/// opened in a new page (a hash-only change in the same page would not reload it). Returns
/// that page, showing the inbox, and the link (used now).
export async function signIn(context, relayUrl, email) {
  const link = await requestLink(context, relayUrl, email);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(link);
  await expect(page.getByTestId('sign-out')).toBeVisible();
  await expect(page.getByTestId('conversation-list')).toBeAttached();
  return { page, link };
}

/// The inbox session cookie of `context`.
export async function sessionCookie(context) {
  const cookie = (await context.cookies()).find((c) => c.name === 'pigeon_inbox');
  expect(cookie, 'the pigeon_inbox cookie').toBeTruthy();
  return cookie;
}

/// A call to the inbox API from outside the browser with a given session cookie value.
export async function inboxApi(cookieValue, path, { method = 'GET', body } = {}) {
  const headers = { cookie: `pigeon_inbox=${cookieValue}` };
  if (method !== 'GET') headers.origin = relay();
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${relay()}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
}

/// A shopper's conversation made through the browser API (as the widget does it, from the
/// shop's origin): one per call, with `messages` from the shopper and an optional context.
export async function shopperConversation(messages, context) {
  return (await shopperThread(messages, context)).id;
}

/// As `shopperConversation`, with the conversation token: `{ id, token }`.
export async function shopperThread(messages, context) {
  const headers = { 'content-type': 'application/json', origin: shop() };
  const created = await fetch(`${relay()}/v1/sites/${site()}/conversations`, {
    method: 'POST', headers, body: JSON.stringify(context ? { context } : {}),
  });
  const createdJson = await created.json();
  expect(created.status, JSON.stringify(createdJson)).toBe(201);
  const { conversation, token } = createdJson;
  const auth = { ...headers, authorization: `Bearer ${token}` };
  for (let i = 0; i < messages.length; i++) {
    const res = await fetch(`${relay()}/v1/conversations/${conversation.id}/messages`, {
      method: 'POST', headers: auth, body: JSON.stringify({ client_id: `s-${i}`, body: messages[i] }),
    });
    expect(res.status, `${JSON.stringify(messages[i])}: ${await res.clone().text()}`).toBe(201);
  }
  return { id: conversation.id, token };
}


/// axe-core's WCAG 2.1 A/AA and best-practice violations inside `selector`, in light and then
/// dark mode (the page is left in dark mode).
export async function axeLightAndDark(page, selector) {
  const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const found = [];
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await page.evaluate(source);
    found.push(...await page.evaluate(async (sel) => (await window.axe.run(document.querySelector(sel), {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    })).violations.map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`), selector));
  }
  return found;
}
