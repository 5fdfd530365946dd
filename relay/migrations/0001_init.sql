-- Sites: one row per merchant site. Secrets are stored only as SHA-256 hex.
CREATE TABLE sites (
  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 32),
  name TEXT NOT NULL,
  -- JSON array of exact origins, e.g. ["https://shop.example"]
  allowed_origins TEXT NOT NULL DEFAULT '[]',
  merchant_email TEXT NOT NULL,
  -- JSON {"time_zone": "Europe/Berlin", "days": [[{"open":"09:00","close":"17:00"}], ...]}, Monday first
  business_hours TEXT NOT NULL DEFAULT '{"time_zone":"UTC","days":[]}',
  expected_reply TEXT NOT NULL DEFAULT 'We usually reply within a few hours.',
  greeting TEXT NOT NULL DEFAULT 'Hi! How can we help?',
  brand_color TEXT NOT NULL DEFAULT '#2f6fed',
  -- May be fractional; conversations idle longer than this are erased by the daily job.
  retention_days REAL NOT NULL DEFAULT 365 CHECK (retention_days > 0),
  agent_key_hash TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- The merchant-side index of conversations. Messages live in each conversation's Durable
-- Object; this holds only what listing needs.
CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites (id),
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  created_at TEXT NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  last_message_at TEXT,
  last_message_preview TEXT,
  last_author TEXT,
  -- Shopper messages the merchant has not marked read.
  unread_count INTEGER NOT NULL DEFAULT 0,
  -- The latest page and cart context the shopper shared (JSON), for the merchant's list.
  context TEXT
);
CREATE INDEX conversations_by_site ON conversations (site_id, status, last_message_at);
