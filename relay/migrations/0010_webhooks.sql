-- Webhooks (Standard Webhooks): a site's endpoints and every delivery to them. Conversations'
-- objects hand their events to the WEBHOOKS queue; its consumer (relay/src/webhooks) makes
-- one delivery per endpoint and sends each conversation's in order.
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites (id),
  url TEXT NOT NULL,
  -- `whsec_...`: needed to sign, so kept as it is (like the site's mail secret).
  secret TEXT NOT NULL,
  -- JSON array of event types; [] means all.
  events TEXT NOT NULL DEFAULT '[]',
  description TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL DEFAULT 1,
  disabled_reason TEXT,
  -- The first failure since the last success.
  failing_since TEXT,
  -- Only events from after this reach it.
  created_at TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_site ON webhook_endpoints (site_id);

CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY,
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  -- The event's stable id (`webhook-id`).
  event_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  -- The event's place in its conversation: deliveries go out in this order.
  ord INTEGER NOT NULL,
  type TEXT NOT NULL,
  -- The JSON body sent, as first made: every attempt sends the same bytes.
  payload TEXT NOT NULL,
  -- pending | delivered | failed
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  -- Milliseconds since 1970: the next attempt, and until when a consumer holds it.
  next_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  delivered_at TEXT,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_turn ON webhook_deliveries (endpoint_id, conversation_id, state, ord);
CREATE INDEX webhook_deliveries_conversation ON webhook_deliveries (conversation_id);
