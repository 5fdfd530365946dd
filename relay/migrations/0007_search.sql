-- Search across a site's conversations (the inbox's `/`): every message's text in an FTS5
-- index. Conversation objects copy their new messages here with their index row (batched,
-- like the row); erasing a conversation, by the shopper or by retention, deletes its rows,
-- and the triggers take them out of the full-text index.
--
-- The text is held once, in `search_messages` (an ordinary table: found by conversation for
-- erasing, by rowid for results); `message_search` indexes it (external content). Its rowid
-- grows with insertion, so "newest first" is the index's own order.
CREATE TABLE search_messages (
  rowid INTEGER PRIMARY KEY,
  site_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  author TEXT NOT NULL,
  created_at TEXT NOT NULL,
  -- The message's text without the two control characters that mark hits in snippets.
  body TEXT NOT NULL,
  UNIQUE (conversation_id, seq)
);

-- `site_id` is indexed too, so a search reads only its own site's postings.
CREATE VIRTUAL TABLE message_search USING fts5(
  body, site_id,
  content = 'search_messages', content_rowid = 'rowid',
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER search_messages_added AFTER INSERT ON search_messages BEGIN
  INSERT INTO message_search (rowid, body, site_id) VALUES (new.rowid, new.body, new.site_id);
END;
CREATE TRIGGER search_messages_removed AFTER DELETE ON search_messages BEGIN
  INSERT INTO message_search (message_search, rowid, body, site_id) VALUES ('delete', old.rowid, old.body, old.site_id);
END;
