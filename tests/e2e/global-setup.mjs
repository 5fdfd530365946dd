// One relay and shop for the whole run, on free ports with fresh state; stopped afterwards.
import { startStack } from '../harness/stack.mjs';

export default async function globalSetup() {
  const stack = await startStack();
  process.env.PIGEON_RELAY = stack.relayUrl;
  process.env.PIGEON_SHOP = stack.shopUrl;
  process.env.PIGEON_SITE = stack.site;
  process.env.PIGEON_AGENT_KEY = stack.agentKey;
  return async () => {
    await stack.stop();
  };
}
