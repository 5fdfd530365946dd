// Search over a site of 10,000 conversations and 100,000 messages, against the real relay
// (workerd, local D1 with FTS5). Requests one at a time from Node, timed end to end.
//   node scripts/bench-search.mjs [--requests N]   prints p50/p99, writes target/bench/search.json
//
// The history is written into D1 directly (the same rows a conversation's object writes:
// `conversations` and `search_messages`, whose triggers fill the full-text index): posting
// 100,000 messages through the relay would take most of an hour on this machine. That the
// objects write those rows, and erase them, is what the relay and e2e tests check; one message
// posted through the relay is also searched for here before measuring.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startStack, ROOT } from '../tests/harness/stack.mjs';
import { toolEnv } from './site.mjs';
import { inboxCookie } from '../tests/harness/mailbox.mjs';

const arg = (name, dflt) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);
const OWNER = 'owner@pigeon-outfitters.test';
const CONVERSATIONS = 10_000;
const MESSAGES = 100_000;
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };

/// A shop's vocabulary, drawn with a Zipf-like skew: a few words in most messages, most words
/// in few. Deterministic (xorshift), so every run searches the same history.
function corpus() {
  const common = ['order', 'size', 'delivery', 'parcel', 'return', 'refund', 'shoes', 'jacket', 'tracking', 'discount',
    'payment', 'invoice', 'address', 'colour', 'stock', 'exchange', 'damaged', 'late', 'thanks', 'hello'];
  const filler = ['the', 'my', 'is', 'it', 'when', 'will', 'can', 'you', 'please', 'was', 'not', 'a', 'for', 'with', 'arrive'];
  const rare = Array.from({ length: 5_000 }, (_, i) => `item${i.toString(36)}`);
  let x = 0x9e3779b97f4a7c15n;
  const next = () => { x ^= x << 13n; x &= (1n << 64n) - 1n; x ^= x >> 7n; x ^= x << 17n; x &= (1n << 64n) - 1n; return Number(x % 1_000_000n) / 1_000_000; };
  const zipf = (list) => list[Math.min(list.length - 1, Math.floor(list.length * next() ** 3))];
  const sentence = () => {
    const words = [];
    const n = 6 + Math.floor(next() * 20);
    for (let i = 0; i < n; i++) {
      const r = next();
      words.push(r < 0.5 ? zipf(filler) : r < 0.85 ? zipf(common) : zipf(rare));
    }
    return words.join(' ');
  };
  return { sentence, next };
}

const sql = (s) => `'${String(s).replaceAll("'", "''")}'`;

/// The history as SQL files of multi-row INSERTs (wrangler runs each file in one go).
function historySql(dir) {
  const { sentence, next } = corpus();
  const start = Date.parse('2025-11-01T00:00:00Z');
  const files = [];
  let rows = [];
  let convRows = [];
  const flush = (force) => {
    if (convRows.length && (force || convRows.length >= 100)) {
      rows.push(`INSERT INTO conversations (id, site_id, status, created_at, last_seq, last_message_at, last_message_preview, last_author, contact_email) VALUES ${convRows.join(',')};`);
      convRows = [];
    }
  };
  let messageRows = [];
  const flushMessages = (force) => {
    if (messageRows.length && (force || messageRows.length >= 100)) {
      rows.push(`INSERT INTO search_messages (site_id, conversation_id, seq, author, created_at, body) VALUES ${messageRows.join(',')};`);
      messageRows = [];
    }
    if (rows.length >= 250 || (force && rows.length)) {
      const file = path.join(dir, `history-${files.length}.sql`);
      fs.writeFileSync(file, rows.join('\n'));
      files.push(file);
      rows = [];
    }
  };
  const perConversation = MESSAGES / CONVERSATIONS;
  for (let c = 0; c < CONVERSATIONS; c++) {
    const id = `bench${c.toString(16).padStart(27, '0')}`;
    const at0 = start + c * 3_000_000;
    let last;
    for (let seq = 1; seq <= perConversation; seq++) {
      const at = new Date(at0 + seq * 60_000).toISOString();
      const body = sentence();
      const author = seq % 2 ? 'shopper' : 'agent';
      messageRows.push(`('demo',${sql(id)},${seq},'${author}','${at}',${sql(body)})`);
      last = { at, body, author };
      flushMessages(false);
    }
    const email = next() < 0.4 ? sql(`shopper${c}@example${c % 37}.com`) : 'NULL';
    convRows.push(`(${sql(id)},'demo','${c % 5 ? 'closed' : 'open'}','${new Date(at0).toISOString()}',${perConversation},'${last.at}',${sql(last.body.slice(0, 140))},'${last.author}',${email})`);
    flush(false);
  }
  flush(true);
  flushMessages(true);
  return files;
}

export async function benchSearch({ requests = 400 } = {}) {
  const persistTo = fs.mkdtempSync(path.join(ROOT, 'target', 'pigeon-search-'));
  const stack = await startStack({ persistTo, vars: { RATE_LIMITS: 'off' }, quiet: true });
  const relay = stack.relayUrl;
  try {
    console.log(`  writing ${CONVERSATIONS.toLocaleString('en')} conversations and ${MESSAGES.toLocaleString('en')} messages into D1 …`);
    const t0 = performance.now();
    for (const file of historySql(persistTo)) {
      execFileSync('npx', ['wrangler', 'd1', 'execute', 'DB', '--local', '--persist-to', persistTo, '--file', file],
        { cwd: path.join(ROOT, 'relay'), stdio: ['ignore', 'pipe', 'pipe'], env: toolEnv() });
    }
    const seeded_s = (performance.now() - t0) / 1000;
    const count = JSON.parse(execFileSync('npx', ['wrangler', 'd1', 'execute', 'DB', '--local', '--json', '--persist-to', persistTo, '--command',
      "SELECT (SELECT count(*) FROM search_messages WHERE site_id = 'demo') AS messages, (SELECT count(*) FROM conversations WHERE site_id = 'demo') AS conversations"],
    { cwd: path.join(ROOT, 'relay'), stdio: ['ignore', 'pipe', 'pipe'], env: toolEnv() }))[0].results[0];
    if (count.messages < MESSAGES || count.conversations < CONVERSATIONS) throw new Error(`seeded only ${JSON.stringify(count)}`);

    const cookie = await inboxCookie(relay, OWNER);
    const search = async (q) => {
      const t = performance.now();
      const res = await fetch(`${relay}/v1/inbox/sites/demo/search?q=${encodeURIComponent(q)}`, { headers: { cookie } });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`search ${q}: ${res.status} ${JSON.stringify(body)}`);
      return { ms: performance.now() - t, hits: body.hits.length };
    };

    // The write path on the same relay: a message posted now is found within seconds.
    const c = await (await fetch(`${relay}/v1/sites/demo/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json();
    await fetch(`${relay}/v1/conversations/${c.conversation.id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` }, body: JSON.stringify({ client_id: 'x', body: 'where is my zeppelin parcel' }) });
    for (let i = 0; (await search('zeppelin')).hits !== 1; i++) {
      if (i > 100) throw new Error('a message posted through the relay never became searchable');
      await new Promise((r) => setTimeout(r, 100));
    }

    // Common words (tens of thousands of matches), two words, prefixes while typing, rare
    // words, an address fragment.
    const queries = ['order', 'delivery parcel', 'refund late', 'dam', 'trac', 'item1a', 'item3zz', 'item2 order', 'shopper12', 'example3', 'thanks hello jacket', 'no such thing'];
    for (const q of queries) await search(q); // warm
    const times = [];
    const byQuery = {};
    for (let i = 0; i < requests; i++) {
      const q = queries[i % queries.length];
      const { ms, hits } = await search(q);
      times.push(ms);
      (byQuery[q] ??= { hits, ms: [] }).ms.push(ms);
    }
    return {
      conversations: CONVERSATIONS,
      messages: MESSAGES,
      seeded_s,
      indexed: count,
      requests,
      p50_ms: pct(times, 50),
      p99_ms: pct(times, 99),
      by_query: Object.fromEntries(Object.entries(byQuery).map(([q, v]) => [q, { hits: v.hits, p50_ms: pct(v.ms, 50), p99_ms: pct(v.ms, 99) }])),
    };
  } finally {
    await stack.stop();
    fs.rmSync(persistTo, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const result = await benchSearch({ requests: arg('--requests', 400) });
  fs.mkdirSync(path.join(ROOT, 'target/bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'target/bench/search.json'), JSON.stringify(result, null, 2));
  console.log(`search over ${result.conversations.toLocaleString('en')} conversations / ${result.messages.toLocaleString('en')} messages: p50 ${result.p50_ms.toFixed(1)} ms, p99 ${result.p99_ms.toFixed(1)} ms (${result.requests} requests)`);
  for (const [q, v] of Object.entries(result.by_query)) console.log(`  ${JSON.stringify(q).padEnd(24)} ${String(v.hits).padStart(3)} hits  p50 ${v.p50_ms.toFixed(1)} ms  p99 ${v.p99_ms.toFixed(1)} ms`);
  process.exit(0);
}
