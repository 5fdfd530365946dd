// `make demo`: relay on RELAY_PORT (8787), shop on SHOP_PORT (8080), state kept in
// relay/.wrangler/state so a restart keeps conversations. Ctrl-C stops everything.
import path from 'node:path';
import { exitWithStack, startStack, ROOT, DEMO_TEAM } from './stack.mjs';
import { startEndpoint } from './webhooks.mjs';

const relayPort = Number(process.env.RELAY_PORT || 8787);
const shopPort = Number(process.env.SHOP_PORT || 8080);
// Mail goes out 10 s after the shopper's last message, and to the shopper 20 s after a reply
// they have not read (production: 2 and 5 minutes).
const stack = await startStack({ relayPort, shopPort, persistTo: path.join(ROOT, 'relay/.wrangler/state'), quiet: true,
  mailDelays: { merchant: 10, shopper: 20 } });

// A webhook endpoint of the demo site on this machine: made (or its secret renewed) through
// the agent API, so that it can check every delivery's signature.
const hooks = await startEndpoint({ port: Number(process.env.HOOKS_PORT || 8089) });
{
  const api = `${stack.relayUrl}/v1/agent/sites/${stack.site}/webhooks`;
  const headers = { authorization: `Bearer ${stack.agentKey}`, 'content-type': 'application/json' };
  const { endpoints } = await (await fetch(api, { headers })).json();
  const known = endpoints.find((e) => e.url === hooks.url);
  const saved = known
    ? await (await fetch(`${api}/${known.id}`, { method: 'PATCH', headers, body: JSON.stringify({ rotate_secret: true, enabled: true }) })).json()
    : await (await fetch(api, { method: 'POST', headers, body: JSON.stringify({ url: hooks.url, description: 'The demo endpoint (make demo)' }) })).json();
  hooks.secret = saved.secret;
}

console.log(`
  Pigeon is running.

  Shop (open this):  ${stack.shopUrl}/   ("Sign in as Ada" in its header: her chat follows her to any browser)
  Inbox:             ${stack.relayUrl}/inbox/   (sign in as a teammate; the link arrives in the Mailbox)
${DEMO_TEAM.map((t) => `    ${t.role.padEnd(6)} ${t.name.padEnd(7)} ${t.email}`).join('\n')}
  Mailbox:           ${stack.shopUrl}/mailbox   (every mail the relay sends; answer as the merchant)
  Webhooks:          http://127.0.0.1:${new URL(hooks.url).port}/   (every event the relay sent, signature checked)
  Relay:             ${stack.relayUrl}
  Site id:           ${stack.site}
  Agent key:         ${stack.agentKey}

  Or answer through the agent API:
    RELAY=${stack.relayUrl} KEY=${stack.agentKey}
    ID=$(curl -s $RELAY/v1/agent/sites/${stack.site}/conversations -H "authorization: Bearer $KEY" \\
      | python3 -c 'import sys,json; print(json.load(sys.stdin)["conversations"][0]["id"])')
    curl -s -X POST $RELAY/v1/agent/conversations/$ID/messages \\
      -H "authorization: Bearer $KEY" -H 'content-type: application/json' \\
      -d '{"client_id":"reply-1","body":"Hi! The Trail Runner 2 fits true to size.","author_name":"Ana"}'

  Ctrl-C stops relay and shop.
`);

exitWithStack(stack);
