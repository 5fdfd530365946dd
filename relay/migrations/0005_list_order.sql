-- The inbox lists a site's conversations by last activity, then id (the page cursor), per
-- status: one index in that order, so a page is read from the index, not sorted.
CREATE INDEX conversations_by_activity ON conversations (site_id, status, COALESCE(last_message_at, created_at) DESC, id DESC);
