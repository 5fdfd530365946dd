// A phone photo sent from the widget, against the real relay and R2, in headless Chromium
// with the CPU throttled 4x: a 4032 x 3024 JPEG of about 4 MB (a 12-megapixel phone camera's
// size) chosen with the attach button; measured from the file chosen to its thumbnail shown
// in the thread (the extras loaded, the picture redrawn at 2,048 px, uploaded, stored,
// fetched back), and the bytes that went to the relay. Medians over several runs.
//   node scripts/bench-files.mjs [--runs N]   prints the row, writes target/bench/files.json
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { startStack, ROOT, DEMO_AGENT_KEY } from '../tests/harness/stack.mjs';
import { median } from './bench-page.mjs';

const arg = (name, dflt) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);

/// The photo, made in the page: light and noise, so that JPEG cannot squeeze it much.
async function phonePhoto(page) {
  const bytes = await page.evaluate(async () => {
    const [w, h] = [4032, 3024];
    const canvas = new OffscreenCanvas(w, h);
    const g = canvas.getContext('2d');
    const img = g.createImageData(w, h);
    let x = 0x2545f491;
    for (let i = 0; i < img.data.length; i += 4) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      const p = i / 4;
      const n = (x >>> 24) % 36;
      img.data[i] = ((p % w) / w) * 190 + n;
      img.data[i + 1] = (Math.floor(p / w) / h) * 170 + n;
      img.data[i + 2] = 90 + n;
      img.data[i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    return [...new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).arrayBuffer())];
  });
  return Buffer.from(bytes);
}

export async function benchFiles({ runs = 3 } = {}) {
  const stack = await startStack({ vars: { RATE_LIMITS: 'off' }, quiet: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const results = [];
  try {
    for (let r = 0; r < runs; r++) {
      const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
      const page = await context.newPage();
      await page.goto(`${stack.shopUrl}/`);
      await page.getByTestId('launcher').click();
      const created = page.waitForResponse((res) => res.url().endsWith('/conversations') && res.request().method() === 'POST');
      await page.getByTestId('composer').fill('Here is the parcel.');
      await page.getByTestId('composer').press('Enter');
      const { conversation } = await (await created).json();
      const photo = await phonePhoto(page);
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      const chooser = page.waitForEvent('filechooser');
      await page.getByTestId('attach').click();
      const t0 = Date.now();
      await (await chooser).setFiles({ name: 'IMG_4032.jpg', mimeType: 'image/jpeg', buffer: photo });
      await page.waitForFunction(() => {
        const img = document.querySelector('[data-pigeon]')?.shadowRoot?.querySelector('[data-testid=file-thumb] img');
        return img && img.complete && img.naturalWidth > 0;
      }, null, { timeout: 120_000, polling: 50 });
      const shown_ms = Date.now() - t0;
      const res = await fetch(`${stack.relayUrl}/v1/agent/conversations/${conversation.id}/messages`, { headers: { authorization: `Bearer ${DEMO_AGENT_KEY}` } });
      const file = (await res.json()).messages.find((m) => m.attachments).attachments[0];
      results.push({ chosen_bytes: photo.length, sent_bytes: file.size, width: file.width, height: file.height, shown_ms });
      await context.close();
    }
  } finally {
    await browser.close();
    await stack.stop();
  }
  return {
    runs: results,
    chosen_bytes: median(results.map((x) => x.chosen_bytes)),
    sent_bytes: median(results.map((x) => x.sent_bytes)),
    shown_ms: median(results.map((x) => x.shown_ms)),
    shown_min_ms: Math.min(...results.map((x) => x.shown_ms)),
    shown_max_ms: Math.max(...results.map((x) => x.shown_ms)),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const result = await benchFiles({ runs: arg('--runs', 3) });
  fs.mkdirSync(path.join(ROOT, 'target/bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'target/bench/files.json'), JSON.stringify(result, null, 2));
  console.log(`phone photo ${(result.chosen_bytes / 1e6).toFixed(1)} MB chosen -> ${(result.sent_bytes / 1e3).toFixed(0)} KB sent (${result.runs[0].width} x ${result.runs[0].height}); thumbnail shown after ${result.shown_ms} ms (${result.shown_min_ms}–${result.shown_max_ms}), CPU 4x`);
  process.exit(0);
}
