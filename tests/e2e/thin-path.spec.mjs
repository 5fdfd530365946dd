// The foundation's thin path through every part: shop page -> loader -> Leptos panel ->
// relay Worker -> conversation Durable Object -> agent API -> live socket -> open panel.
import { test, expect } from '@playwright/test';
import { ShopPage, agent } from './pigeon.mjs';

test('a shopper message is stored and an agent reply appears in the open panel; the next message goes over the live socket', async ({ page }) => {
  const shop = new ShopPage(page);
  const sentFrames = [];
  const heardFrames = [];
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => sentFrames.push(JSON.parse(f.payload)));
    ws.on('framereceived', (f) => heardFrames.push(JSON.parse(f.payload)));
  });
  await shop.goto();
  await shop.open();
  await expect(page.getByTestId('site-name')).toHaveText('Pigeon Outfitters');

  const question = 'Does the Trail Runner 2 run small?';
  const created = await shop.send(question);
  expect(created.status()).toBe(201);
  const { conversation } = await created.json();
  await expect(shop.message(question)).toHaveAttribute('data-delivery', 'sent');

  // Stored in the conversation's Durable Object, with seq 1 and the page as context.
  const stored = await agent.messages(conversation.id);
  expect(stored).toHaveLength(1);
  expect(stored[0]).toMatchObject({ seq: 1, author: 'shopper', body: question });
  expect(stored[0].context.page.title).toContain('Trail Runner 2');

  // The merchant answers through the agent API; the open panel shows it live.
  const answer = 'It runs true to size. Take your usual one!';
  const reply = await agent.reply(conversation.id, answer, { authorName: 'Ana' });
  expect(reply.status).toBe(201);
  expect(reply.json.message.seq).toBe(2);
  const shown = shop.message(answer);
  await expect(shown).toBeVisible();
  await expect(shown).toHaveAttribute('data-author', 'agent');
  await expect(shown).toContainText('Ana');

  // The socket is up and said `ready`: the next message travels on it, not as a new request.
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().includes('/messages')) posts.push(r.url()); });
  const followUp = 'And in a 44?';
  await shop.composer.fill(followUp);
  await shop.composer.press('Enter');
  await expect(shop.message(followUp)).toHaveAttribute('data-delivery', 'sent');
  expect(posts).toEqual([]);
  const sends = sentFrames.filter((f) => f.type === 'send');
  expect(sends.map((f) => f.body)).toEqual([followUp]);
  expect(sends[0].context.page.title).toContain('Trail Runner 2');
  expect(heardFrames.find((f) => f.type === 'ack')).toMatchObject({ client_id: sends[0].client_id, created: true, message: { seq: 3, body: followUp } });
  expect((await agent.messages(conversation.id)).map((m) => m.body)).toEqual([question, answer, followUp]);

  expect(await shop.cspViolations()).toEqual([]);
  expect(shop.errors).toEqual([]);
});
