#!/usr/bin/env node
// Sizes of what a shop's visitors download (the loader, and the whole widget: wasm, JS glue,
// CSS) and of the merchant's inbox (its whole first load), raw, gzip (level 9) and brotli
// (quality 11). Deterministic for a given build.
//   node scripts/sizes.mjs            print the table, write target/bench/sizes.json
//   node scripts/sizes.mjs --check    also fail when a budget is exceeded (make test)
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');

// Budgets guard against regressions; the aims (1.5 KB loader, 60 KB widget) are in README.
// The loader's was 1,536 B until it learned to import the extras for data-platform (+51 B),
// then 1,664 B until it imported them when the thread shows a note from Pigeon (+61 B: a
// closed conversation, its rating, a new conversation, earlier ones).
// The extras' was 60,000 B until they showed a conversation's life (closed, rating, new and
// earlier conversations: +14.7 KB).
// Photos and files (issue 16): the loader draws the attach button, takes pastes and drops
// and starts the extras when the thread has files (+327 B: 1,728 -> 2,080 B); the extras
// send and show them (+27 KB: 70,000 -> 95,000 B). The widget's first load is unchanged.
export const BUDGETS = { loader: 2080, widget: 96_000, extras: 95_000, inbox: 250_000, manage: 170_000 };

function measure(file) {
  const bytes = fs.readFileSync(path.join(DIST, file));
  return {
    file,
    raw: bytes.length,
    gzip: zlib.gzipSync(bytes, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

const loader = measure('pigeon.js');
const parts = ['widget/pigeon_widget_bg.wasm', 'widget/pigeon_widget.js', 'widget/pigeon.css'].map(measure);
const widget = parts.reduce((t, p) => ({ file: 'whole widget', raw: t.raw + p.raw, gzip: t.gzip + p.gzip, brotli: t.brotli + p.brotli }), { raw: 0, gzip: 0, brotli: 0 });

// Shop systems' carts (data-platform): imported by the loader the first time the panel opens
// on such a page, never on others.
const extrasParts = ['widget/pigeon_extras_bg.wasm', 'widget/pigeon_extras.js'].map(measure);
const extras = extrasParts.reduce((t, p) => ({ file: 'widget extras (data-platform, identify)', raw: t.raw + p.raw, gzip: t.gzip + p.gzip, brotli: t.brotli + p.brotli }), { raw: 0, gzip: 0, brotli: 0 });

const inboxParts = ['inbox/index.html', 'inbox/boot.js', 'inbox/pigeon_inbox.js', 'inbox/pigeon_inbox_bg.wasm', 'inbox/inbox.css'].map(measure);
const inbox = inboxParts.reduce((t, p) => ({ file: 'whole inbox (first load)', raw: t.raw + p.raw, gzip: t.gzip + p.gzip, brotli: t.brotli + p.brotli }), { raw: 0, gzip: 0, brotli: 0 });

// Settings (the shop, notifications, API tokens, webhooks): a second module, fetched the
// first time Settings opens (inbox/manage).
const manageParts = ['inbox/manage/pigeon_inbox_manage_bg.wasm', 'inbox/manage/pigeon_inbox_manage.js'].map(measure);
const manage = manageParts.reduce((t, p) => ({ file: 'inbox Settings and Reports (when opened)', raw: t.raw + p.raw, gzip: t.gzip + p.gzip, brotli: t.brotli + p.brotli }), { raw: 0, gzip: 0, brotli: 0 });

const rows = [loader, ...parts, widget, ...extrasParts, extras, ...inboxParts, inbox, ...manageParts, manage];
const fmt = (n) => n.toLocaleString('en-US').padStart(9);
console.log(`| ${'file'.padEnd(42)} | ${'raw'.padStart(9)} | ${'gzip'.padStart(9)} | ${'brotli'.padStart(9)} |`);
console.log(`|${'-'.repeat(44)}|${'-'.repeat(11)}|${'-'.repeat(11)}|${'-'.repeat(11)}|`);
for (const r of rows) console.log(`| ${r.file.padEnd(42)} | ${fmt(r.raw)} | ${fmt(r.gzip)} | ${fmt(r.brotli)} |`);

fs.mkdirSync(path.join(ROOT, 'target/bench'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'target/bench/sizes.json'), JSON.stringify({ loader, parts, widget, extrasParts, extras, inboxParts, inbox, manageParts, manage, budgets: BUDGETS }, null, 2));

if (process.argv.includes('--check')) {
  const over = [];
  if (loader.brotli > BUDGETS.loader) over.push(`loader ${loader.brotli} B brotli > budget ${BUDGETS.loader} B`);
  if (widget.brotli > BUDGETS.widget) over.push(`widget ${widget.brotli} B brotli > budget ${BUDGETS.widget} B`);
  if (extras.brotli > BUDGETS.extras) over.push(`widget extras ${extras.brotli} B brotli > budget ${BUDGETS.extras} B`);
  if (inbox.brotli > BUDGETS.inbox) over.push(`inbox ${inbox.brotli} B brotli > budget ${BUDGETS.inbox} B`);
  if (manage.brotli > BUDGETS.manage) over.push(`inbox Settings ${manage.brotli} B brotli > budget ${BUDGETS.manage} B`);
  console.log(over.length ? `size budgets: ${5 - over.length} passed, ${over.length} failed\n  ${over.join('\n  ')}` : 'size budgets: 5 passed, 0 failed');
  process.exit(over.length ? 1 : 0);
}
