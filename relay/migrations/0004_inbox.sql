-- The merchant's inbox: who may sign in to which site, single-use sign-in links, sessions.
-- Secrets (link and session tokens) are stored only as SHA-256 hex.

-- A site's teammates. Addresses are stored trimmed and in lowercase; a person is one
-- address, and may be a teammate of several sites.
CREATE TABLE teammates (
  site_id TEXT NOT NULL REFERENCES sites (id),
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'agent')),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (site_id, email)
);
CREATE INDEX teammates_by_email ON teammates (email);

-- Every site's merchant address is its first owner.
INSERT OR IGNORE INTO teammates (site_id, email, name, role)
  SELECT id, lower(trim(merchant_email)), name, 'owner' FROM sites;

-- Sign-in links: 15 minutes, single use (used_at set once, atomically).
CREATE TABLE signin_links (
  token_hash TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  used_ms INTEGER
);
CREATE INDEX signin_links_by_email ON signin_links (email, created_ms);

-- Inbox sessions: an HttpOnly cookie holds the token. 30 days; "Sign out" revokes one.
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  revoked_ms INTEGER
);
CREATE INDEX sessions_by_email ON sessions (email);

-- The inbox lists the shopper's address and their earlier conversations: the index keeps
-- it (erased with the row, like everything else in it).
ALTER TABLE conversations ADD COLUMN contact_email TEXT;
CREATE INDEX conversations_by_contact ON conversations (site_id, contact_email);
