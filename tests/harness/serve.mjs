// Starts relay and shop for a non-JavaScript caller (the Rust tests and load generator):
// prints one JSON line with the URLs and keys, then runs until stdin closes or SIGTERM.
//   node tests/harness/serve.mjs [--persist-to DIR] [--relay-port N] [--var NAME=VALUE ...] [--api-only]
import { exitWithStack, startStack } from './stack.mjs';

const args = process.argv.slice(2);
const opts = { vars: {} };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--persist-to') opts.persistTo = args[++i];
  else if (args[i] === '--relay-port') opts.relayPort = Number(args[++i]);
  else if (args[i] === '--log-level') opts.logLevel = args[++i];
  else if (args[i] === '--api-only') opts.apiOnly = true;
  else if (args[i] === '--var') {
    const [k, ...v] = args[++i].split('=');
    opts.vars[k] = v.join('=');
  }
}

const stack = await startStack(opts);
process.stdout.write(JSON.stringify({
  relay: stack.relayUrl, shop: stack.shopUrl, site: stack.site, agent_key: stack.agentKey,
  persist_to: stack.persistTo, other_site: stack.otherSite, other_agent_key: stack.otherAgentKey,
}) + '\n');

const stop = exitWithStack(stack);
process.on('uncaughtException', (e) => { console.error(e); stop(); });
process.stdout.on('error', () => {}); // the caller may be gone; stop() still runs
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
