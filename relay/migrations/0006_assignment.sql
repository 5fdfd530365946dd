-- Assignment: the teammate (address) who answers a conversation, copied from its object into
-- the index like the rest of the row; the inbox's Mine and Unassigned tabs filter by it.
ALTER TABLE conversations ADD COLUMN assignee TEXT;
CREATE INDEX conversations_by_assignee ON conversations (site_id, assignee);
