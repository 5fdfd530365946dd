// Starts Pigeon locally: the relay on workerd (wrangler dev) with migrated, seeded D1, and
// the demo shop. Used by `make demo` and by the end-to-end tests (free ports, fresh state).
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { siteSql, teammateSql, d1Execute, toolEnv } from '../../scripts/site.mjs';
import { serveShop } from './shop.mjs';
import { generateVapidKeys } from '../../scripts/vapid.mjs';
import { DEMO_IDENTITY_SECRET } from './accounts.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO_SITE = 'demo';
export const DEMO_AGENT_KEY = 'demo-agent-key-for-local-use-only';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitFor(url, child, logs, timeoutMs = 60_000) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`relay exited early (${child.exitCode}):\n${logs.join('')}`);
    const ok = await new Promise((resolve) => {
      http.get(url, (res) => { res.resume(); resolve(res.statusCode === 200); }).on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`relay did not answer ${url} within ${timeoutMs} ms:\n${logs.join('')}`);
}

export function demoSite(shopOrigins) {
  return {
    id: DEMO_SITE,
    name: 'Pigeon Outfitters',
    origins: shopOrigins,
    merchantEmail: 'owner@pigeon-outfitters.test',
    hours: { time_zone: 'Europe/Berlin', days: Array.from({ length: 7 }, () => [{ open: '00:00', close: '24:00' }]) },
    expectedReply: 'We usually reply within 2 hours.',
    greeting: 'Hi! Questions about sizes, shipping or your order? Ask away.',
    brandColor: '#2f6fed',
    retentionDays: 365,
    agentKey: DEMO_AGENT_KEY,
    identitySecret: DEMO_IDENTITY_SECRET,
    // The inbox shows "Close and ask for a rating" beside "Close".
    ratings: 'ask',
  };
}

/// The demo shop's team in the inbox: the owner (the merchant address) and an agent.
export const DEMO_TEAM = [
  { site: DEMO_SITE, email: 'owner@pigeon-outfitters.test', name: 'Olivia', role: 'owner' },
  { site: DEMO_SITE, email: 'sam@pigeon-outfitters.test', name: 'Sam', role: 'agent' },
];

export const OTHER_SITE = 'other';
export const OTHER_AGENT_KEY = 'other-agent-key-for-local-use-only';
export const BRIEF_SITE = 'brief';

/// Sites the tests need besides the demo: another shop (cross-site access), one whose inbox
/// nobody else opens (the hub's quiet time), and one whose retention is a second or two (the
/// retention job).
export function testSites(shopOrigins) {
  return [
    { ...demoSite(['https://other-shop.test']), id: OTHER_SITE, name: 'Other Shop', agentKey: OTHER_AGENT_KEY,
      merchantEmail: 'owner@other-shop.test', identitySecret: undefined },
    // Nobody but one relay test opens its inbox: its hub's quiet time is seen there.
    { ...demoSite(['https://hushed-shop.test']), id: 'hushed', name: 'Hushed Shop', agentKey: 'hushed-agent-key-for-local-use-only',
      merchantEmail: 'owner@hushed-shop.test', identitySecret: undefined },
    { ...demoSite(shopOrigins), id: BRIEF_SITE, name: 'Brief Memory Shop', agentKey: 'brief-agent-key-for-local-use-only',
      merchantEmail: 'owner@brief-shop.test', retentionDays: 0.00002 },
  ];
}

/**
 * Starts relay and shop. Options: relayPort, shopPort, persistTo (state dir), quiet.
 * Returns { relayUrl, shopUrl, site, agentKey, stop() }.
 */
/// The relay's email settings for local runs: a secret kept with the state (so resume links
/// survive a restart of `make demo`), and short delays so a person or a test sees mail soon.
function mailVars(persistTo, delays) {
  const file = path.join(persistTo, 'mail-secret');
  if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600 });
  return {
    MAIL_SECRET: fs.readFileSync(file, 'utf8').trim(),
    MAIL_DOMAIN: MAIL_DOMAIN,
    MERCHANT_NOTIFY_DELAY_SECONDS: String(delays.merchant),
    SHOPPER_NOTIFY_DELAY_SECONDS: String(delays.shopper),
  };
}

export const MAIL_DOMAIN = 'mail.pigeon.test';

/// The relay's Web Push keys for local runs, kept with the state like the mail secret (a
/// device enabled in `make demo` keeps working after a restart). Local push receivers and
/// webhook endpoints listen on loopback, so private endpoints are allowed here (never in
/// production).
function pushVars(persistTo) {
  const file = path.join(persistTo, 'vapid.json');
  if (!fs.existsSync(file)) fs.writeFileSync(file, JSON.stringify(generateVapidKeys()), { mode: 0o600 });
  const { publicKey, privateKey } = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey, VAPID_SUBJECT: `mailto:notify@${MAIL_DOMAIN}`, PUSH_PRIVATE_ENDPOINTS: 'allow',
    WEBHOOK_PRIVATE_ENDPOINTS: 'allow' };
}

/// The relay's wrangler.toml without its static assets (the widget, loader and inbox pages),
/// written beside it (relative paths stay right) and returned by name. For the relay
/// benchmarks only: with assets, `wrangler dev` puts its asset router in front of every
/// request, which costs workerd about 0.5 ms of CPU per request on this machine. That is the
/// platform's work, done outside the Worker's CPU on Cloudflare, and the floor has none; the
/// relay's code never reads the ASSETS binding.
function apiOnlyConfig(relayDir) {
  const name = 'wrangler.api-only.toml';
  const toml = fs.readFileSync(path.join(relayDir, 'wrangler.toml'), 'utf8');
  const without = toml.replace(/^\[assets\]\n(?:[^\[\n].*\n|\n)*/m, '');
  if (without === toml) throw new Error('relay/wrangler.toml has no [assets] table to leave out');
  fs.writeFileSync(path.join(relayDir, name), `# Written by tests/harness/stack.mjs (apiOnly): relay/wrangler.toml without [assets].\n${without}`);
  return name;
}

export async function startStack({ relayPort, shopPort, persistTo, quiet = true, vars = {}, logLevel = 'info',
  mailDelays = { merchant: 1, shopper: 2 }, inspectorPort, apiOnly = false } = {}) {
  relayPort ??= await freePort();
  shopPort ??= await freePort();
  const temporary = !persistTo;
  fs.mkdirSync(path.join(ROOT, 'target'), { recursive: true });
  persistTo ??= fs.mkdtempSync(path.join(ROOT, 'target', 'pigeon-state-'));
  fs.mkdirSync(persistTo, { recursive: true });
  const relayDir = path.join(ROOT, 'relay');
  const env = toolEnv();
  const shopOrigins = [`http://127.0.0.1:${shopPort}`, `http://localhost:${shopPort}`];

  execFileSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo],
    { cwd: relayDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const seed = [demoSite(shopOrigins), ...testSites(shopOrigins)].map(siteSql).concat(DEMO_TEAM.map(teammateSql));
  d1Execute(seed.join('\n'), { persistTo });

  vars = { ...mailVars(persistTo, mailDelays), ...pushVars(persistTo), ...vars };
  const logs = [];
  // Everything the relay logs, for tests that check what logs must never contain.
  const logFile = fs.createWriteStream(path.join(persistTo, 'relay.log'), { flags: 'a' });
  const collect = (chunk) => {
    logFile.write(chunk);
    logs.push(chunk.toString());
    if (logs.length > 400) logs.shift();
    if (!quiet) process.stderr.write(chunk);
  };
  const config = apiOnly ? ['--config', apiOnlyConfig(relayDir)] : [];
  const spawnRelay = () => {
    const child = spawn(path.join(ROOT, 'node_modules/.bin/wrangler'), ['dev', '--local', '--ip', '127.0.0.1', '--port', String(relayPort),
      '--persist-to', persistTo, '--show-interactive-dev-session=false', '--log-level', logLevel, ...config,
      ...(inspectorPort ? ['--inspector-port', String(inspectorPort)] : []),
      ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])],
      { cwd: relayDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    return child;
  };
  let relay = spawnRelay();
  let restarting = Promise.resolve();
  // If this process dies without stop(), take the relay (its whole process group) along.
  const reap = () => { try { process.kill(-relay.pid, 'SIGKILL'); } catch { /* already gone */ } };
  process.on('exit', reap);

  const relayUrl = `http://127.0.0.1:${relayPort}`;
  const shop = await serveShop({ port: shopPort, relayUrl, site: DEMO_SITE });
  try {
    await waitFor(`${relayUrl}/v1/health`, relay, logs);
  } catch (e) {
    shop.close();
    killGroup(relay);
    throw e;
  }

  return {
    relayUrl,
    shopUrl: `http://127.0.0.1:${shopPort}`,
    site: DEMO_SITE,
    agentKey: DEMO_AGENT_KEY,
    otherSite: OTHER_SITE,
    otherAgentKey: OTHER_AGENT_KEY,
    persistTo,
    logs,
    /// Kills the relay hard (its whole process group, as a crash would), waits `downMs`, and
    /// starts it again on the same port with the same state. Calls made while one is under
    /// way queue behind it: two overlapping restarts would otherwise both start a relay, and
    /// the one that won the port would outlive `stop()`.
    restartRelay({ downMs = 0 } = {}) {
      restarting = restarting.then(async () => {
        reap();
        await new Promise((r) => relay.exitCode !== null || relay.signalCode !== null ? r() : relay.once('exit', r));
        await new Promise((r) => setTimeout(r, downMs));
        relay = spawnRelay();
        await waitFor(`${relayUrl}/v1/health`, relay, logs);
      });
      return restarting;
    },
    async stop() {
      await restarting.catch(() => {});
      shop.close();
      await killGroup(relay);
      process.off('exit', reap);
      logFile.end();
      if (temporary) fs.rmSync(persistTo, { recursive: true, force: true });
    },
  };
}

/// Stops wrangler and everything it started (workerd, esbuild): the whole process group.
function killGroup(child) {
  const signal = (sig) => { try { process.kill(-child.pid, sig); } catch { /* gone */ } };
  return new Promise((resolve) => {
    const done = () => { signal('SIGKILL'); resolve(); };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(done, 5000);
    child.once('exit', () => { clearTimeout(timer); setTimeout(done, 300); });
    signal('SIGTERM');
  });
}

/// Stops `stack` once and exits, on Ctrl-C or SIGTERM; returns that stop for other triggers.
export function exitWithStack(stack) {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return stop;
}
