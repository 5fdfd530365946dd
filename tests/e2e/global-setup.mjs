// One relay and shop for the whole run, on free ports with fresh state; stopped afterwards.
import { startStack } from '../harness/stack.mjs';

export default async function globalSetup() {
  // Every test is another shopper, but here they all share one IP: the per-IP limiter (proven
  // by tests/relay/rate_limits.rs) would make later tests wait on 429s, so it is off.
  // Webhook retries come within seconds (webhooks.spec), not minutes, and the daily clean-up
  // (run by hand there) takes every finished delivery.
  const stack = await startStack({ vars: { RATE_LIMITS: 'off', WEBHOOK_RETRY_SECONDS: '1,2,2', WEBHOOK_LOG_DAYS: '0' } });
  process.env.PIGEON_RELAY = stack.relayUrl;
  process.env.PIGEON_SHOP = stack.shopUrl;
  process.env.PIGEON_SITE = stack.site;
  process.env.PIGEON_AGENT_KEY = stack.agentKey;
  return async () => {
    await stack.stop();
  };
}
