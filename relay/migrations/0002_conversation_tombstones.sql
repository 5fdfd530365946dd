-- Conversations deleted by the shopper or erased by retention: which site each belonged to,
-- and nothing else. A browser still asking about one gets a 404 it can read (CORS headers for
-- that site's origins) instead of a 403 it cannot; a tombstone never opens the conversation
-- again (the relay reads it only to choose those headers).
CREATE TABLE conversation_tombstones (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  erased_at TEXT NOT NULL
);
