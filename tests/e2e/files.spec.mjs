// Photos and files (issue 16) end to end against the real relay and R2: a phone photo chosen
// in the widget is downscaled and loses its EXIF (GPS included) before it leaves; a pasted
// screenshot goes too; a file waiting while the relay is unreachable survives a reload and is
// stored once; the inbox sees and sends files; an emailed reply's photo shows in the widget;
// a file the relay cannot take says why. On a 375 px phone, light and dark, with axe.
import { test, expect } from '@playwright/test';
import { ShopPage, agentKey, relay } from './pigeon.mjs';
import { axeLightAndDark, signIn } from './inbox-helpers.mjs';
import { deliver, waitForMail } from '../harness/mailbox.mjs';

const MERCHANT = 'owner@pigeon-outfitters.test';

/// A 3000 x 2000 JPEG as a phone writes it: an EXIF block with a GPS position (52° 31' 12.34" N)
/// right after the start of the image. Made in the page (Node has no canvas).
async function phonePhoto(page) {
  const bytes = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(3000, 2000);
    const g = canvas.getContext('2d');
    const grad = g.createLinearGradient(0, 0, 3000, 2000);
    grad.addColorStop(0, '#c0392b');
    grad.addColorStop(1, '#2980b9');
    g.fillStyle = grad;
    g.fillRect(0, 0, 3000, 2000);
    g.fillStyle = '#fff';
    g.font = '200px sans-serif';
    g.fillText('DAMAGED BOX', 300, 1100);
    const jpeg = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).arrayBuffer());
    // TIFF (big endian): IFD0 with one entry, GPSInfo -> GPS IFD with latitude ref "N" and
    // latitude 52/1, 31/1, 1234/100.
    const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8,
      0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0,
      0, 2, 0, 1, 0, 2, 0, 0, 0, 2, 0x4e, 0, 0, 0, 0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 56, 0, 0, 0, 0,
      0, 0, 0, 52, 0, 0, 0, 1, 0, 0, 0, 31, 0, 0, 0, 1, 0, 0, 4, 0xd2, 0, 0, 0, 100];
    const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
    const app1 = [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255, ...payload];
    return [...jpeg.slice(0, 2), ...app1, ...jpeg.slice(2)];
  });
  return Buffer.from(bytes);
}

const hasExif = (buf) => buf.includes(Buffer.from('Exif\0\0')) || buf.includes(Buffer.from([0, 0, 4, 0xd2, 0, 0, 0, 100]));

async function agentFile(conversation, id) {
  const r = await fetch(`${relay()}/v1/agent/conversations/${conversation}/files/${id}`, { headers: { authorization: `Bearer ${agentKey()}` } });
  expect(r.status).toBe(200);
  return Buffer.from(await r.arrayBuffer());
}

async function agentMessages(conversation) {
  const r = await fetch(`${relay()}/v1/agent/conversations/${conversation}/messages`, { headers: { authorization: `Bearer ${agentKey()}` } });
  return (await r.json()).messages;
}

/// The thumbnails shown, loaded (a picture with pixels, not a broken image).
async function loadedThumbs(page) {
  return page.getByTestId('file-thumb').locator('img').evaluateAll((imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).map((i) => i.alt));
}

test('a phone photo and a screenshot from the widget: downscaled, without EXIF, stored once across a reload; seen in the inbox; replies with files shown', async ({ browser }) => {
  const shopper = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const page = await shopper.newPage();
  const shop = new ShopPage(page);
  await shop.goto();
  await shop.open();
  const { conversation } = await (await shop.send('The box arrived crushed.')).json();
  await expect(shop.message('The box arrived crushed.')).toHaveAttribute('data-delivery', 'sent');

  // The photo, chosen with the attach button (on a phone the chooser offers the camera).
  const photo = await phonePhoto(page);
  expect(hasExif(photo)).toBe(true);
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId('attach').click();
  await (await chooser).setFiles({ name: 'IMG_2041.jpg', mimeType: 'image/jpeg', buffer: photo });
  await expect.poll(() => loadedThumbs(page), { timeout: 20_000 }).toEqual(['IMG_2041.jpg']);
  const stored = (await agentMessages(conversation.id)).filter((m) => m.attachments);
  expect(stored).toHaveLength(1);
  const [file] = stored[0].attachments;
  expect([file.name, file.content_type, file.width, file.height]).toEqual(['IMG_2041.jpg', 'image/jpeg', 2048, 1365]);
  const bytes = await agentFile(conversation.id, file.id);
  expect(bytes.length).toBeLessThan(photo.length);
  expect(hasExif(bytes), 'EXIF and GPS are gone').toBe(false);
  console.log(`photo: ${photo.length} B chosen, ${bytes.length} B sent`);

  // Larger, over the panel; Escape returns to the thumbnail.
  await page.getByTestId('file-thumb').click();
  const viewer = page.getByTestId('file-viewer');
  await expect(viewer).toBeVisible();
  await expect(viewer.locator('img')).toHaveAttribute('alt', 'IMG_2041.jpg');
  await page.screenshot({ path: test.info().outputPath('widget-photo-viewer-phone.png') });
  await page.keyboard.press('Escape');
  await expect(viewer).toHaveCount(0);
  await expect(page.getByTestId('file-thumb')).toBeFocused();

  // A screenshot pasted into the composer.
  await page.getByTestId('composer').evaluate(async (field) => {
    const canvas = new OffscreenCanvas(400, 300);
    const g = canvas.getContext('2d');
    g.fillStyle = '#2e7d32';
    g.fillRect(0, 0, 400, 300);
    const png = await canvas.convertToBlob({ type: 'image/png' });
    const data = new DataTransfer();
    data.items.add(new File([png], 'Screenshot 2026-12-04.png', { type: 'image/png' }));
    field.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, composed: true, cancelable: true }));
  });
  await expect.poll(() => loadedThumbs(page), { timeout: 20_000 }).toEqual(['IMG_2041.jpg', 'Screenshot 2026-12-04.png']);

  // The relay unreachable for files: the next one waits, survives a reload, then goes once.
  await page.route('**/v1/conversations/*/files?**', (route) => route.abort());
  const waiting = page.waitForEvent('filechooser');
  await page.getByTestId('attach').click();
  await (await waiting).setFiles({ name: 'label.jpg', mimeType: 'image/jpeg', buffer: photo });
  const uploads = page.getByTestId('uploads');
  await expect(uploads).toContainText('Waiting for a connection', { timeout: 15_000 });
  await page.reload();
  await shop.open();
  await expect(uploads).toContainText('label.jpg', { timeout: 15_000 });
  await page.unroute('**/v1/conversations/*/files?**');
  await expect.poll(() => loadedThumbs(page), { timeout: 30_000 }).toEqual(['IMG_2041.jpg', 'Screenshot 2026-12-04.png', 'label.jpg']);
  await expect(uploads.getByTestId('upload')).toHaveCount(0);
  const all = (await agentMessages(conversation.id)).filter((m) => m.attachments);
  expect(all.map((m) => m.attachments[0].name)).toEqual(['IMG_2041.jpg', 'Screenshot 2026-12-04.png', 'label.jpg']);

  // The inbox shows the shopper's files and sends its own (a PDF, chosen in the composer).
  const merchant = await browser.newContext();
  const { page: inbox } = await signIn(merchant, relay(), MERCHANT);
  await inbox.locator(`[data-testid=conversation-row][data-id="${conversation.id}"]`).click();
  await expect(inbox.getByTestId('thread-image')).toHaveCount(3);
  await expect.poll(() => inbox.getByTestId('thread-image').locator('img').evaluateAll((imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length)).toBe(3);
  await inbox.getByTestId('reply-attach').setInputFiles({ name: 'Rücksendeschein.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
  await expect(inbox.getByTestId('thread-file')).toHaveText('Rücksendeschein.pdf', { timeout: 15_000 });
  await inbox.screenshot({ path: test.info().outputPath('inbox-files.png') });
  expect(await axeLightAndDark(inbox, 'body')).toEqual([]);
  // The widget shows it as a download.
  await expect(page.getByTestId('file-link')).toHaveText('Rücksendeschein.pdf (15 B)', { timeout: 15_000 });

  // An emailed reply with a photo: its text, then the photo, in the widget.
  const mail = await waitForMail(relay(), (m) => m.to === MERCHANT && m.replyAddress.includes(conversation.id) && m.html.includes('<img src='));
  expect(mail.html).toContain('<img src=');
  const png = (await agentFile(conversation.id, all[1].attachments[0].id)).toString('base64');
  const raw = [
    `From: Jo <${MERCHANT}>`, `To: ${mail.replyAddress}`, 'Subject: Re: chat', `Message-ID: <photo-${Date.now()}@shop.test>`, 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain; charset=utf-8', '', 'Like this one? We send a new box today.', '',
    '--b', 'Content-Type: image/png; name="replacement.png"', 'Content-Disposition: attachment; filename="replacement.png"', 'Content-Transfer-Encoding: base64', '', png, '--b--', '',
  ].join('\r\n');
  const delivered = await deliver(relay(), { from: MERCHANT, to: mail.replyAddress, raw });
  expect(delivered.status, delivered.text).toBe(200);
  await expect(shop.message('Like this one? We send a new box today.')).toBeVisible({ timeout: 15_000 });
  await expect.poll(() => loadedThumbs(page), { timeout: 20_000 }).toContain('replacement.png');
  await page.screenshot({ path: test.info().outputPath('widget-files-phone.png') });
  expect(await axeLightAndDark(page, '[data-pigeon]')).toEqual([]);
  await page.screenshot({ path: test.info().outputPath('widget-files-phone-dark.png') });
  expect(shop.errors).toEqual([]);
  await merchant.close();
  await shopper.close();
});

test('a file the relay cannot take says why and sends nothing; the first message can be a file', async ({ page }) => {
  const shop = new ShopPage(page);
  await shop.goto();
  await shop.open();
  // A text file: refused in the browser, nothing made.
  let chooser = page.waitForEvent('filechooser');
  await page.getByTestId('attach').click();
  await (await chooser).setFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(page.getByTestId('upload-refused')).toContainText('Only photos (JPEG, PNG, GIF, WebP) and PDF files can be sent.');
  // An HTML page calling itself a PDF: the relay reads its bytes and refuses it, with the reason.
  chooser = page.waitForEvent('filechooser');
  await page.getByTestId('attach').click();
  const created = page.waitForResponse((r) => r.url().endsWith('/conversations') && r.request().method() === 'POST');
  await (await chooser).setFiles({ name: 'invoice.pdf', mimeType: 'application/pdf', buffer: Buffer.from('<html><script>alert(1)</script></html>') });
  const { conversation } = await (await created).json();
  await expect(page.getByTestId('upload-refused').last()).toContainText('this file is none of these by its content', { timeout: 15_000 });
  expect(await agentMessages(conversation.id)).toEqual([]);
  await page.getByTestId('uploads').getByRole('button', { name: 'Dismiss' }).last().click();
  // A real PDF as the first message of the conversation the refused one made.
  chooser = page.waitForEvent('filechooser');
  await page.getByTestId('attach').click();
  await (await chooser).setFiles({ name: 'receipt.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
  await expect(page.getByTestId('file-link')).toHaveText('receipt.pdf (15 B)', { timeout: 15_000 });
  expect((await agentMessages(conversation.id)).map((m) => m.attachments?.[0].name)).toEqual(['receipt.pdf']);
  expect(shop.errors).toEqual([]);
});
