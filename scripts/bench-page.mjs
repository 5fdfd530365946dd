// What Pigeon costs the shop page and how fast it answers, measured in headless Chromium
// against the real relay (Playwright + the DevTools protocol). Medians over several runs,
// with the spread; "with" and "without" Pigeon are measured alternately in the same run.
//   node scripts/bench-page.mjs [--runs N]     prints rows, writes target/bench/page.json
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { startStack, ROOT } from '../tests/harness/stack.mjs';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const stat = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length });

/// Long tasks and main-thread time, collected from the start of the page.
const OBSERVE = () => {
  window.__longTasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
    .observe({ type: 'longtask', buffered: true });
};

async function cdpMetrics(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

/// One load of the shop, with or without Pigeon's script tag, CPU throttled 4x: script time,
/// task time, long tasks, and what Pigeon requested, once the page has been idle 3 s.
async function hostCost(browser, shopUrl, relayUrl, withPigeon) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(OBSERVE);
  if (!withPigeon) {
    // The same page minus the one script tag.
    await page.route(`${shopUrl}/`, async (route) => {
      const res = await route.fetch();
      const html = (await res.text()).replace(/<script async src="[^"]*pigeon\.js"[^>]*><\/script>/, '');
      await route.fulfill({ response: res, body: html });
    });
  }
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('Network.enable');
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  const requests = new Map();
  cdp.on('Network.requestWillBeSent', (e) => { if (e.request.url.startsWith(relayUrl)) requests.set(e.requestId, 0); });
  cdp.on('Network.loadingFinished', (e) => { if (requests.has(e.requestId)) requests.set(e.requestId, e.encodedDataLength); });
  await page.goto(`${shopUrl}/`, { waitUntil: 'load' });
  await page.waitForTimeout(3000);
  const m = await cdpMetrics(cdp);
  const longTasks = await page.evaluate(() => window.__longTasks);
  const storage = await page.evaluate(async () => ({
    cookies: document.cookie.length,
    local: localStorage.length,
    databases: (await indexedDB.databases()).length,
  }));
  await context.close();
  return {
    scriptMs: m.ScriptDuration * 1000,
    taskMs: m.TaskDuration * 1000,
    longTasks: longTasks.length,
    requests: requests.size,
    bytes: [...requests.values()].reduce((a, b) => a + b, 0),
    storage,
  };
}

/// Milliseconds from the launcher's click to a visible composer, measured inside the page.
const CLICK_TO_COMPOSER = () => new Promise((resolve) => {
  const root = document.querySelector('[data-pigeon]').shadowRoot;
  const t0 = performance.now();
  root.querySelector('.launcher').click();
  (function poll() {
    const composer = root.querySelector('textarea');
    if (composer && composer.offsetParent !== null) resolve(performance.now() - t0);
    else requestAnimationFrame(poll);
  })();
});

/// Warm: the shopper hovered first (the panel's code is fetched on hover). Cold: a first
/// visit, no hover, CPU 4x slower and 150 ms round trips.
async function clickToComposer(browser, shopUrl, relayUrl, cold) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  if (cold) {
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  }
  await page.goto(`${shopUrl}/`, { waitUntil: 'load' });
  const launcher = page.getByTestId('launcher');
  await launcher.waitFor();
  if (!cold) {
    const fetched = page.waitForResponse((r) => r.url().endsWith('.wasm'));
    await launcher.hover();
    await fetched;
    await page.waitForLoadState('networkidle');
  }
  const ms = await page.evaluate(CLICK_TO_COMPOSER);
  await context.close();
  return ms;
}

/// A thread of 1,000 messages in IndexedDB, then a reload with the relay unreachable: time
/// from navigation start to the thread on screen: its newest message, with the 50 newest rendered.
async function restore(browser, stack, count = 1000) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.shopUrl}/`);
  await page.getByTestId('launcher').click();
  const composer = page.getByTestId('composer');
  await composer.fill('Start of a long thread');
  const created = page.waitForResponse((r) => r.url().endsWith('/conversations') && r.request().method() === 'POST');
  await composer.press('Enter');
  const { conversation } = await (await created).json();
  for (let i = 1; i < count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, k) => fetch(`${stack.relayUrl}/v1/agent/conversations/${conversation.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.agentKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: `bench-${i + k}`, body: `Reply number ${i + k}: the answer to a question about sizes and shipping.` }),
    })));
  }
  await page.getByTestId('message').nth(count - 1).waitFor({ timeout: 120_000 });
  await page.waitForTimeout(1500); // IndexedDB writes settle
  const times = [];
  for (let r = 0; r < runs; r++) {
    await page.route(`${stack.relayUrl}/v1/**`, (route) => route.abort());
    await page.addInitScript(() => { (window.Pigeon = window.Pigeon || function () { (Pigeon.q = Pigeon.q || []).push(arguments); })('open'); });
    await page.reload({ waitUntil: 'commit' });
    const t = await page.evaluate((n) => new Promise((resolve) => {
      (function poll() {
        const root = document.querySelector('[data-pigeon]')?.shadowRoot;
        // Restored: the newest message (seq n) on screen (the panel shows the newest 50).
        if (root && root.querySelector(`[data-testid="message"][data-seq="${n}"]`)) {
          const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? 0;
          const now = performance.now();
          resolve({ total: now, restore: now - at('pigeon:mount'), read: at('pigeon:restored') - at('pigeon:mount') });
        } else requestAnimationFrame(poll);
      })();
    }), count);
    times.push(t);
    await page.unroute(`${stack.relayUrl}/v1/**`);
  }
  await context.close();
  return times;
}

export async function benchPage({ runsPerRow = runs } = {}) {
  const stack = await startStack({ vars: { RATE_LIMITS: 'off' } });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  try {
    const withP = [];
    const without = [];
    for (let r = 0; r < runsPerRow; r++) {
      without.push(await hostCost(browser, stack.shopUrl, stack.relayUrl, false));
      withP.push(await hostCost(browser, stack.shopUrl, stack.relayUrl, true));
    }
    const diff = (key) => withP.map((w, i) => w[key] - without[i][key]);
    const warm = [];
    const cold = [];
    for (let r = 0; r < runsPerRow; r++) {
      warm.push(await clickToComposer(browser, stack.shopUrl, stack.relayUrl, false));
      cold.push(await clickToComposer(browser, stack.shopUrl, stack.relayUrl, true));
    }
    const restoreMs = await restore(browser, stack);
    return {
      before_interaction: {
        requests: stat(withP.map((w) => w.requests)),
        bytes: stat(withP.map((w) => w.bytes)),
        storage_written: withP.some((w) => w.storage.cookies || w.storage.local || w.storage.databases),
      },
      host_cost_cpu4x: {
        script_ms: stat(diff('scriptMs')),
        task_ms: stat(diff('taskMs')),
        long_tasks: stat(diff('longTasks')),
        script_ms_without: stat(without.map((w) => w.scriptMs)),
      },
      click_to_composer_ms: { warm: stat(warm), cold: stat(cold) },
      // From the panel's mount (IndexedDB read + render), and from navigation start.
      restore_1000_ms: stat(restoreMs.map((t) => t.restore)),
      restore_1000_from_navigation_ms: stat(restoreMs.map((t) => t.total)),
      // Of the restore: reading IndexedDB into the thread, before the first render.
      restore_1000_read_ms: stat(restoreMs.map((t) => t.read)),
    };
  } finally {
    await browser.close();
    await stack.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchPage();
  fs.mkdirSync(path.join(ROOT, 'target/bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'target/bench/page.json'), JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
}
