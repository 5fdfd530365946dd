// Reports (issue 17) in the inbox, against the real relay: a conversation answered through
// the agent API and closed shows up in the numbers and the chart within seconds; the page
// shows exactly what the relay's metrics say; it is readable (axe, light and dark) on a
// desktop and a phone.
import { test, expect } from '@playwright/test';
import { agent, relay } from './pigeon.mjs';
import { axeLightAndDark, inboxApi, sessionCookie, shopperConversation, signIn } from './inbox-helpers.mjs';

const AGENT = 'sam@pigeon-outfitters.test';

test('Reports show the relay\'s numbers for the last days, as a chart and in words', async ({ browser }) => {
  const merchant = await browser.newContext();
  const { page } = await signIn(merchant, relay(), AGENT);
  const cookie = (await sessionCookie(merchant)).value;
  const today = await page.evaluate(() => { const d = new Date(); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; });
  const metrics = async (from) => {
    const got = await inboxApi(cookie, `/v1/inbox/sites/demo/metrics?from=${from}&to=${today}`);
    expect(got.status, got.text).toBe(200);
    return got.json;
  };

  // A conversation answered by a script and closed: counted once its events reach D1.
  const id = await shopperConversation(['Do the boots come in 47?']);
  await agent.reply(id, 'They do, from next week.');
  const closed = await fetch(`${relay()}/v1/agent/conversations/${id}/close`, { method: 'POST', headers: { authorization: `Bearer ${process.env.PIGEON_AGENT_KEY}` } });
  expect(closed.status).toBe(204);
  await expect.poll(async () => (await metrics(today)).replies_by_channel.api, { timeout: 15_000 }).toBeGreaterThan(0);

  await page.getByTestId('reports-open').click();
  const reports = page.getByTestId('reports');
  await expect(reports.getByTestId('reports-conversations')).toBeVisible();
  await expect(reports.getByRole('button', { name: 'Last 30 days' })).toHaveAttribute('aria-pressed', 'true');
  // Today only: the page shows what the relay computed.
  await reports.getByTestId('reports-from').fill(today);
  await reports.getByTestId('reports-to').fill(today);
  await reports.getByTestId('reports-show').click();
  const m = await metrics(today);
  await expect(reports.getByTestId('reports-conversations')).toContainText(String(m.conversations));
  expect(m.conversations).toBeGreaterThan(0);
  await expect(reports.getByTestId('reports-chart')).toHaveAttribute('aria-label', `Conversations per day: ${m.conversations} in all, most on ${today} (${m.conversations}).`);
  await expect(reports.getByTestId('reports-channels')).toContainText(`API${m.replies_by_channel.api}`);
  await expect(reports.getByTestId('reports-reopen')).toContainText(`of ${m.closed} closed conversations`);
  expect(m.closed).toBeGreaterThan(0);
  // A range the relay refuses says why.
  await reports.getByTestId('reports-from').fill('2020-01-01');
  await reports.getByTestId('reports-show').click();
  await expect(reports.getByTestId('reports-error')).toContainText('366 days');

  await reports.getByRole('button', { name: 'Last 7 days' }).click();
  await expect(reports.getByRole('button', { name: 'Last 7 days' })).toHaveAttribute('aria-pressed', 'true');
  await expect(reports.getByTestId('reports-error')).toBeEmpty();
  expect(await axeLightAndDark(page, '[data-testid=reports]')).toEqual([]);
  await page.screenshot({ path: test.info().outputPath('reports-dark.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: test.info().outputPath('reports-phone.png'), fullPage: true });
  expect(page.errors).toEqual([]);
  await merchant.close();
});
