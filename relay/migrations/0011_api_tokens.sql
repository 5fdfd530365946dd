-- Personal API tokens: a teammate's own key to the agent API for one site. Only the token's
-- SHA-256 is kept. A token works while its teammate is on the site's team (the lookup joins
-- `teammates`), and leaving the team deletes it.
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  site_id TEXT NOT NULL REFERENCES sites (id),
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  -- To the hour: written at most once an hour per token.
  last_used_at TEXT
);
CREATE INDEX api_tokens_owner ON api_tokens (site_id, email);
