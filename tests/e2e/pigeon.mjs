// Page objects and relay helpers for the end-to-end tests.
import { expect } from '@playwright/test';

export const relay = () => process.env.PIGEON_RELAY;
export const shop = () => process.env.PIGEON_SHOP;
export const site = () => process.env.PIGEON_SITE;
export const agentKey = () => process.env.PIGEON_AGENT_KEY;

/// The agent API, as a merchant's script would call it.
export const agent = {
  async messages(conversation, after = 0) {
    const res = await fetch(`${relay()}/v1/agent/conversations/${conversation}/messages?after=${after}`, {
      headers: { authorization: `Bearer ${agentKey()}` },
    });
    expect(res.status, 'agent GET messages').toBe(200);
    return (await res.json()).messages;
  },
  async reply(conversation, body, { clientId = `reply-${Date.now()}`, authorName = 'Ana' } = {}) {
    const res = await fetch(`${relay()}/v1/agent/conversations/${conversation}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentKey()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: clientId, body, author_name: authorName }),
    });
    return { status: res.status, json: await res.json() };
  },
};

/// Holds every relay API request of `page` until the returned function is called, and closes
/// its live sockets until then (the widget reconnects with backoff; messages can travel on a
/// socket too): what the page shows meanwhile came from IndexedDB.
export async function holdRelay(page) {
  let release;
  const held = new Promise((r) => { release = r; });
  let released = false;
  await page.route(`${relay()}/v1/**`, async (route) => { await held; await route.continue(); });
  await page.routeWebSocket(/\/live$/, (ws) => (released ? ws.connectToServer() : ws.close({ code: 4000, reason: 'held' })));
  return () => { released = true; release(); };
}

/// The shop page with the Pigeon widget; records CSP violations and page errors.
export class ShopPage {
  constructor(page) {
    this.page = page;
    this.launcher = page.getByTestId('launcher');
    this.panel = page.getByTestId('panel');
    this.composer = page.getByTestId('composer');
    this.messages = page.getByTestId('message');
    this.errors = [];
    page.on('pageerror', (e) => this.errors.push(String(e)));
  }

  async goto(path = '/') {
    await this.page.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await this.page.goto(`${shop()}${path}`);
  }

  /// Opens the panel and resolves with the conversation id once the first message creates it.
  async open() {
    await this.launcher.click();
    await expect(this.panel).toBeVisible();
  }

  message(text) {
    return this.messages.filter({ hasText: text });
  }

  async send(text) {
    const created = this.page.waitForResponse((r) => r.url().endsWith(`/v1/sites/${site()}/conversations`) && r.request().method() === 'POST');
    await this.composer.fill(text);
    await this.composer.press('Enter');
    return created;
  }

  async cspViolations() {
    return this.page.evaluate(() => window.__csp);
  }
}
