-- Reports (issue 17): what each conversation went through, for the metrics routes. Written by
-- the conversation's `hooks` job in the hand-over of its webhook events (`ord` is the event's
-- place in the conversation: a hand-over done twice writes each row once), erased with the
-- conversation. Its start is `conversations.created_at`.
CREATE TABLE conversation_events (
  conversation_id TEXT NOT NULL,
  ord INTEGER NOT NULL,
  site_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('reply', 'closed', 'reopened')),
  at TEXT NOT NULL,
  -- A reply's way in; NULL for replies stored before it was recorded.
  channel TEXT CHECK (channel IN ('inbox', 'email', 'api')),
  -- The teammate who replied (inbox, personal API token, their mailbox), by address.
  teammate TEXT,
  PRIMARY KEY (conversation_id, ord)
) WITHOUT ROWID;
-- Reports read a site's conversations by creation time, then their events by key.
CREATE INDEX conversations_by_created ON conversations (site_id, created_at);
