// Reports over 90 days of a site with 10,000 conversations, against the real relay (workerd,
// local D1): `GET /v1/agent/sites/demo/metrics` one request at a time from Node, timed end to
// end (the D1 read, the business-hours arithmetic in Berlin's time zone, the JSON).
//   node scripts/bench-metrics.mjs [--requests N]   prints p50/p99, writes target/bench/metrics.json
//
// The history is written into D1 directly (the rows the conversations' objects write:
// `conversations` and `conversation_events`); that the objects write them is what the relay
// tests check. Business hours are the demo's weekday office hours, so every answer is counted
// in local time across the range.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startStack, ROOT, DEMO_AGENT_KEY } from '../tests/harness/stack.mjs';
import { toolEnv } from './site.mjs';

const arg = (name, dflt) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);
const CONVERSATIONS = 10_000;
const DAYS = 90;
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };
const HOURS = JSON.stringify({ time_zone: 'Europe/Berlin', days: [...Array(5)].map(() => [{ open: '09:00', close: '17:00' }]).concat([[], []]) });

/// 10,000 conversations spread over 90 days from 2026-08-01 (a clock change inside): most
/// answered once or twice (inbox, email, API), most closed, some reopened. Deterministic.
function historySql(dir) {
  let x = 0x2545f491;
  const next = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 4_294_967_296; };
  const start = Date.parse('2026-08-01T00:00:00Z');
  const channels = ['inbox', 'email', 'api'];
  const mates = ['owner@pigeon-outfitters.test', 'sam@pigeon-outfitters.test', null];
  const files = [];
  let lines = [];
  let conv = [];
  let events = [];
  const write = (force) => {
    if (conv.length && (force || conv.length >= 200)) {
      lines.push(`INSERT INTO conversations (id, site_id, status, created_at) VALUES ${conv.join(',')};`);
      conv = [];
    }
    if (events.length && (force || events.length >= 400)) {
      lines.push(`INSERT INTO conversation_events (conversation_id, ord, site_id, kind, at, channel, teammate) VALUES ${events.join(',')};`);
      events = [];
    }
    if (lines.length >= 60 || (force && lines.length)) {
      const file = path.join(dir, `metrics-${files.length}.sql`);
      fs.writeFileSync(file, lines.join('\n'));
      files.push(file);
      lines = [];
    }
  };
  for (let c = 0; c < CONVERSATIONS; c++) {
    const id = `metric${c.toString(16).padStart(26, '0')}`;
    let t = start + Math.floor(next() * DAYS * 86_400_000);
    const created = new Date(t).toISOString();
    let ord = 0;
    const event = (kind, channel, teammate) => {
      ord += 1;
      events.push(`('${id}',${ord},'demo','${kind}','${new Date(t).toISOString()}',${channel ? `'${channel}'` : 'NULL'},${teammate ? `'${teammate}'` : 'NULL'})`);
    };
    let closed = false;
    const replies = next() < 0.1 ? 0 : 1 + Math.floor(next() * 3);
    for (let r = 0; r < replies; r++) {
      t += Math.floor(next() * 30 * 3_600_000);
      const i = Math.floor(next() * 3);
      event('reply', channels[i], mates[i]);
    }
    if (replies && next() < 0.8) {
      t += Math.floor(next() * 48 * 3_600_000);
      event('closed');
      closed = true;
      if (next() < 0.1) {
        t += Math.floor(next() * 10 * 86_400_000);
        event('reopened');
        closed = false;
      }
    }
    conv.push(`('${id}','demo','${closed ? 'closed' : 'open'}','${created}')`);
    write(false);
  }
  write(true);
  return files;
}

export async function benchMetrics({ requests = 60 } = {}) {
  const persistTo = fs.mkdtempSync(path.join(ROOT, 'target', 'pigeon-metrics-'));
  const stack = await startStack({ persistTo, vars: { RATE_LIMITS: 'off' }, quiet: true });
  const relay = stack.relayUrl;
  const d1 = (args) => execFileSync('npx', ['wrangler', 'd1', 'execute', 'DB', '--local', '--persist-to', persistTo, ...args], { cwd: path.join(ROOT, 'relay'), stdio: ['ignore', 'pipe', 'pipe'], env: toolEnv() });
  try {
    console.log(`  writing ${CONVERSATIONS.toLocaleString('en')} conversations over ${DAYS} days into D1 …`);
    const t0 = performance.now();
    d1(['--command', `UPDATE sites SET business_hours = '${HOURS}' WHERE id = 'demo'`]);
    for (const file of historySql(persistTo)) d1(['--file', file]);
    // Each conversation's `history`, as its hooks job writes it beside its events (and the
    // migration for rows from before it): what the report reads.
    d1(['--command', `UPDATE conversations SET history = (SELECT json_group_array(json_array(e.kind, e.at, e.channel, e.teammate, e.close_kind, e.satisfaction, e.effort)) FROM (SELECT kind, at, channel, teammate, close_kind, satisfaction, effort FROM conversation_events WHERE conversation_id = conversations.id ORDER BY ord) AS e) WHERE site_id = 'demo'`]);
    const seeded_s = (performance.now() - t0) / 1000;
    const count = JSON.parse(d1(['--json', '--command', "SELECT (SELECT count(*) FROM conversations WHERE site_id = 'demo') AS conversations, (SELECT count(*) FROM conversation_events WHERE site_id = 'demo') AS events"]))[0].results[0];
    if (count.conversations < CONVERSATIONS) throw new Error(`seeded only ${JSON.stringify(count)}`);

    const url = `${relay}/v1/agent/sites/demo/metrics?from=2026-08-01&to=2026-10-29`;
    const get = async () => {
      const t = performance.now();
      const res = await fetch(url, { headers: { authorization: `Bearer ${DEMO_AGENT_KEY}` } });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`metrics: ${res.status} ${JSON.stringify(body)}`);
      return { ms: performance.now() - t, body };
    };
    const first = await get(); // warm
    if (first.body.conversations < CONVERSATIONS * 0.95) throw new Error(`counted ${first.body.conversations}`);
    const times = [];
    for (let i = 0; i < requests; i++) times.push((await get()).ms);
    return { conversations: count.conversations, events: count.events, days: DAYS, seeded_s, requests, counted: first.body.conversations, p50_ms: pct(times, 50), p99_ms: pct(times, 99), sample: { first_response: first.body.first_response, reopen_rate: first.body.reopen_rate } };
  } finally {
    await stack.stop();
    fs.rmSync(persistTo, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const result = await benchMetrics({ requests: arg('--requests', 60) });
  fs.mkdirSync(path.join(ROOT, 'target/bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'target/bench/metrics.json'), JSON.stringify(result, null, 2));
  console.log(`metrics over ${result.days} days, ${result.conversations.toLocaleString('en')} conversations / ${result.events.toLocaleString('en')} events: p50 ${result.p50_ms.toFixed(1)} ms, p99 ${result.p99_ms.toFixed(1)} ms (${result.requests} requests)`);
  console.log(`  first response: ${JSON.stringify(result.sample.first_response)}, reopen rate ${result.sample.reopen_rate}`);
  process.exit(0);
}
