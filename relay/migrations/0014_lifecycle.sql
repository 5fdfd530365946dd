-- Issue 17: the widget's reply-time line, closing idle conversations, ratings.
-- How the widget states the reply time: the site's own text, or the measured median first
-- response in business hours over the last 7 days (the text when too few to measure).
ALTER TABLE sites ADD COLUMN reply_time TEXT NOT NULL DEFAULT 'text' CHECK (reply_time IN ('text', 'measured'));
-- The last measurement (NULL: too few answered conversations) and when it was made (ms).
ALTER TABLE sites ADD COLUMN measured_reply_minutes INTEGER;
ALTER TABLE sites ADD COLUMN measured_reply_at INTEGER;
-- Open conversations idle this many days are closed by the daily sweep (0: never).
ALTER TABLE sites ADD COLUMN auto_close_days INTEGER NOT NULL DEFAULT 0;
-- Whether a close asks the shopper for a rating: never, always (teammates' closes), or only
-- when the teammate asks for it.
ALTER TABLE sites ADD COLUMN ratings TEXT NOT NULL DEFAULT 'off' CHECK (ratings IN ('off', 'on', 'ask'));

-- Report rows gain ratings: a close says whether it asked for one, a `rated` row carries the
-- answer. SQLite cannot change a CHECK, so the table is made again.
CREATE TABLE conversation_events_new (
  conversation_id TEXT NOT NULL,
  ord INTEGER NOT NULL,
  site_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('reply', 'closed', 'reopened', 'rated')),
  at TEXT NOT NULL,
  channel TEXT CHECK (channel IN ('inbox', 'email', 'api')),
  teammate TEXT,
  -- A close: by a teammate ('plain'), by a teammate asking for a rating ('rating'), or by
  -- the idle sweep ('auto'). NULL for closes recorded before this.
  close_kind TEXT CHECK (close_kind IN ('plain', 'rating', 'auto')),
  -- A rating: satisfaction and effort, 1 to 5 (effort may be unanswered).
  satisfaction INTEGER CHECK (satisfaction BETWEEN 1 AND 5),
  effort INTEGER CHECK (effort BETWEEN 1 AND 5),
  PRIMARY KEY (conversation_id, ord)
) WITHOUT ROWID;
INSERT INTO conversation_events_new (conversation_id, ord, site_id, kind, at, channel, teammate)
  SELECT conversation_id, ord, site_id, kind, at, channel, teammate FROM conversation_events;
DROP TABLE conversation_events;
ALTER TABLE conversation_events_new RENAME TO conversation_events;
