// `make profile-relay`: where the relay's CPU goes per message. Starts the relay (rate limits
// off and the deployed notification delays, as bench-relay does) with workerd's inspector
// open, records a V8 CPU profile while bench-relay drives one scenario and path, then prints
// the functions by self time and by total time (wasm functions by their Rust names,
// wasm-bindgen's JS imports by the import they implement), in ms per message. Async Rust is
// polled from microtasks, so a future's work counts under the function that polls it, not
// under the caller that awaited it; and workerd's own C++ (HTTP, SQLite's commit, the proxy
// wrangler puts in front) is "(program)" or not in the profile at all: `make bench-relay`'s
// CPU from /proc is the number to go by.
//   node scripts/profile-relay.mjs [--path socket|POST|GET] [--only "16 senders"|health] [--seconds 8]
//                                  [--top 40] [--under NAME]   (only what runs below NAME)
//                                  [--callers NAME]            (what NAME's time runs under)
//   node scripts/profile-relay.mjs --again [--under NAME]       (the last profile, read again)
//   node scripts/profile-relay.mjs --floor ...                  (the floor, tests/bench-floor)
// The profile is kept in target/bench/relay.cpuprofile (opens in Chrome's DevTools), with the
// bundle it ran and the message count beside it.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { startStack, freePort, ROOT } from '../tests/harness/stack.mjs';
import { toolEnv } from './site.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const top = Number(arg('--top', '40'));
const under = arg('--under');
const callers = arg('--callers');
const out = path.join(ROOT, 'target/bench');
const saved = { profile: path.join(out, 'relay.cpuprofile'), bundle: path.join(out, 'relay-bundle.js'), run: path.join(out, 'relay-profile-run.json')};

if (!args.includes('--again')) await record();
const profile = JSON.parse(fs.readFileSync(saved.profile, 'utf8'));
const bundleLines = fs.existsSync(saved.bundle) ? fs.readFileSync(saved.bundle, 'utf8').split('\n') : [];
// Messages stored, or (the cheapest route, `--path GET --only health`) requests answered.
const ran = JSON.parse(fs.readFileSync(saved.run, 'utf8'));
const firstRun = ran.relay[0].pigeon.runs[0];
const messages = firstRun.messages ?? Math.round(firstRun.msgs_per_sec * ran.seconds_per_scenario);
report();

/// The floor worker on its own `wrangler dev`, as bench-relay starts it, with the inspector.
async function startFloor(inspectorPort) {
  const port = await freePort();
  const state = fs.mkdtempSync(path.join(ROOT, 'target', 'bench-floor-'));
  const child = spawn(path.join(ROOT, 'node_modules/.bin/wrangler'), ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port),
    '--show-interactive-dev-session=false', '--log-level', 'warn', '--persist-to', state, '--inspector-port', String(inspectorPort)],
  { cwd: path.join(ROOT, 'tests/bench-floor'), env: toolEnv(), stdio: 'ignore', detached: true });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200 && !(await fetch(`${url}/v1/health`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 300));
  return {
    relayUrl: url, site: 'floor', dir: 'tests/bench-floor',
    async stop() {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      await new Promise((r) => setTimeout(r, 1000));
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      fs.rmSync(state, { recursive: true, force: true });
    },
  };
}

async function record() {
  const inspectorPort = await freePort();
  const started = Date.now();
  const stack = args.includes('--floor') ? await startFloor(inspectorPort)
    : { dir: 'relay', ...(await startStack({ vars: { RATE_LIMITS: 'off' }, mailDelays: { merchant: 120, shopper: 300 }, logLevel: 'warn', inspectorPort,
      apiOnly: !args.includes('--assets') })) };
  try {
    // The bundle wrangler runs (it removes it when it stops).
    const tmp = path.join(ROOT, stack.dir, '.wrangler/tmp');
    const bundle = fs.readdirSync(tmp).map((d) => path.join(tmp, d, fs.existsSync(path.join(tmp, d, 'shim.js')) ? 'shim.js' : 'floor.js'))
      .filter((f) => fs.existsSync(f) && fs.statSync(f).mtimeMs >= started - 1000)
      .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
    fs.mkdirSync(out, { recursive: true });
    if (bundle) fs.copyFileSync(bundle, saved.bundle);

    const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
    const target = targets.find((t) => t.webSocketDebuggerUrl);
    if (!target) throw new Error(`no inspector target: ${JSON.stringify(targets)}`);
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    let id = 0;
    const waiting = new Map();
    const logged = new Map();
    ws.on('message', (data) => {
      const m = JSON.parse(data);
      // What the relay logs meanwhile, counted by its first word.
      if (m.method === 'Runtime.consoleAPICalled') {
        const word = String(m.params.args?.[0]?.value ?? '').split(' ')[0];
        logged.set(word, (logged.get(word) ?? 0) + 1);
      }
      if (m.id && waiting.has(m.id)) {
        waiting.get(m.id)(m);
        waiting.delete(m.id);
      }
    });
    const call = (method, params = {}) => new Promise((resolve, reject) => {
      const n = ++id;
      waiting.set(n, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
      ws.send(JSON.stringify({ id: n, method, params }));
    });
    await call('Runtime.enable');
    await call('Profiler.enable');
    await call('Profiler.setSamplingInterval', { interval: 100 });
    await call('Profiler.start');

    const run = spawnSync(path.join(ROOT, 'target/release/bench-relay'), ['--relay', stack.relayUrl, '--site', stack.site, '--no-floor', '--runs', '1',
      '--seconds', arg('--seconds', '8'), '--only', arg('--only', '16 senders'), '--path', arg('--path', 'socket'), '--json', saved.run], { stdio: 'inherit' });
    if (run.status !== 0) throw new Error(`bench-relay exited ${run.status}`);
    const { profile: recorded } = await call('Profiler.stop');
    fs.writeFileSync(saved.profile, JSON.stringify(recorded));
    if (logged.size) console.log('logged meanwhile (by first word):', JSON.stringify(Object.fromEntries(logged)));

    ws.close();
  } finally {
    await stack.stop();
  }
}

function report() {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n) => {
    const f = n.callFrame;
    const file = f.url ? path.basename(f.url) : '';
    let fn = (f.functionName || '(anonymous)').replace(/::h[0-9a-f]{16}/g, '');
    if (!f.functionName && file === 'shim.js') {
      const imports = [...(bundleLines[f.lineNumber] ?? '').slice(0, f.columnNumber + 1).matchAll(/__wbg_([A-Za-z0-9]+)_[0-9a-f]{16}:/g)];
      if (imports.length) return `import ${imports[imports.length - 1][1]}`;
    }
    return `${fn}${file && !file.includes('.wasm') ? ` ${file}:${f.lineNumber + 1}` : ''}`;
  };
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  // Self time per function; total time adds each function once per stack (recursion is not
  // counted twice). With --under, only the stacks through NAME, and what is above it.
  const self = new Map();
  const total = new Map();
  let busy = 0;
  for (const [nodeId, us] of selfUs) {
    const stack = [];
    for (let at = nodeId; at !== undefined; at = parent.get(at)) stack.push(name(nodes.get(at)));
    const cut = under ? stack.findIndex((s) => s.includes(under)) : stack.length;
    if (cut < 0) continue;
    const from = callers ? stack.findIndex((s) => s.includes(callers)) : 0;
    if (from < 0) continue;
    if (!['(idle)', '(program)', '(garbage collector)'].includes(stack[0])) busy += us;
    self.set(stack[0], (self.get(stack[0]) ?? 0) + us);
    for (const k of new Set(stack.slice(from, cut + 1))) total.set(k, (total.get(k) ?? 0) + us);
  }
  const perMsg = (us) => (us / 1000 / Math.max(1, messages)).toFixed(3);
  const print = (title, map) => {
    console.log(`\n${title} (ms per message, ${messages} messages)`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${perMsg(us).padStart(8)}  ${k}`);
  };
  console.log(`JavaScript and wasm busy${under ? ` under ${under}` : ''}${callers ? ` in ${callers}` : ''}: ${perMsg(busy)} ms per message ((program) is workerd's own C++, (garbage collector) V8's)`);
  print('Self time', self);
  print('Total time', total);
}
