-- Saved replies: a site's ready answers, picked in the inbox's composer with `/shortcut`.
-- Owners manage them; every teammate of the site uses them.
CREATE TABLE saved_replies (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites (id),
  shortcut TEXT NOT NULL,
  body TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (site_id, shortcut)
);
